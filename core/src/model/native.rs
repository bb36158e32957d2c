//! A native (sparse, exponential) histogram's buckets as a scrape sees them.
//!
//! Bucket `i` of schema `s` holds values in `(2^((i-1)/2^s), 2^(i/2^s)]` (negative values
//! mirror it); values within the zero threshold go to the zero bucket.

/// The coarsest and finest schemas Prometheus accepts.
pub(crate) const MIN_SCHEMA: i32 = -4;
pub(crate) const MAX_SCHEMA: i32 = 8;

/// The buckets of one sign: consecutive indices from `offset`, dense.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseBuckets {
    /// The index of `counts[0]`.
    pub offset: i32,
    /// Per-bucket (not cumulative) counts of indices `offset..offset + len`.
    pub counts: Vec<u64>,
}

/// Dense storage stays within this many indices, so values far apart cannot make a
/// series allocate without bound; past it the resolution is halved.
pub(crate) const MAX_SPAN: usize = 4096;

impl SparseBuckets {
    pub(crate) fn add(&mut self, index: i32, n: u64) -> bool {
        if self.counts.is_empty() {
            self.offset = index;
            self.counts.push(0);
        } else if index < self.offset {
            let grow = (self.offset - index) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.offset = index;
        } else if index - self.offset >= self.counts.len() as i32 {
            self.counts.resize((index - self.offset) as usize + 1, 0);
        }
        let slot = &mut self.counts[(index - self.offset) as usize];
        *slot += n;
        *slot == n
    }

    pub(crate) fn populated(&self) -> usize {
        self.counts.iter().filter(|c| **c > 0).count()
    }

    /// The same counts at half the resolution: bucket `i` goes to `(i + 1) >> 1`.
    pub(crate) fn halve(&mut self) {
        let old = std::mem::take(self);
        for (i, count) in old.counts.iter().enumerate() {
            if *count > 0 {
                self.add((old.offset + i as i32 + 1) >> 1, *count);
            }
        }
    }

    /// Adds every bucket of `other` (at the same schema).
    pub(crate) fn merge(&mut self, other: &SparseBuckets) {
        for (i, count) in other.counts.iter().enumerate() {
            if *count > 0 {
                self.add(other.offset + i as i32, *count);
            }
        }
    }

    /// Adds `count` to bucket `index` (ignoring empty or absurdly far-off buckets, which
    /// only a damaged file could hold).
    pub(crate) fn merge_one(&mut self, index: i32, count: u64) {
        let far = !self.counts.is_empty()
            && (index < self.offset - MAX_SPAN as i32 || index > self.offset + 2 * MAX_SPAN as i32);
        if count > 0 && !far {
            self.add(index, count);
        }
    }

    /// `(index, count)` of the populated buckets, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (i32, u64)> + '_ {
        let offset = self.offset;
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(move |(i, c)| (offset + i as i32, *c))
    }
}

/// A copy of a histogram's native buckets.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeSnapshot {
    /// The resolution: bucket boundaries grow by a factor of `2^(2^-schema)`.
    pub schema: i32,
    /// Observations whose absolute value is at most this are counted in the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: u64,
    /// Buckets of observations above the zero threshold.
    pub positive: SparseBuckets,
    /// Buckets of observations below minus the zero threshold.
    pub negative: SparseBuckets,
}

impl NativeSnapshot {
    /// Lowers this snapshot to `schema` (coarser or equal), for adding snapshots taken at
    /// different resolutions.
    pub fn reduce_to(&mut self, schema: i32) {
        while self.schema > schema {
            self.positive.halve();
            self.negative.halve();
            self.schema -= 1;
        }
    }

    /// Lowers the schema until at most `capacity` buckets per sign are populated (or the
    /// coarsest schema is reached), for storing an aggregate in fixed slots.
    pub(crate) fn fit(&mut self, capacity: usize) {
        while (self.positive.populated() > capacity || self.negative.populated() > capacity)
            && self.schema > MIN_SCHEMA
        {
            let schema = self.schema - 1;
            self.reduce_to(schema);
        }
    }

    /// Adds `other` into this one at the coarser of the two schemas and the wider zero
    /// bucket (multi-process aggregation).
    pub fn merge(&mut self, other: &NativeSnapshot) {
        let mut other = other.clone();
        let schema = self.schema.min(other.schema);
        self.reduce_to(schema);
        other.reduce_to(schema);
        self.zero_threshold = self.zero_threshold.max(other.zero_threshold);
        self.zero_count += other.zero_count;
        self.positive.merge(&other.positive);
        self.negative.merge(&other.negative);
    }
}
