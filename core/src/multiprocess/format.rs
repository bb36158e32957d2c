//! The on-disk layout of a process file and of the archive.
//!
//! A file is a 64-byte header followed by records, each 8-byte aligned:
//!
//! ```text
//! header   magic "GDSMPROC" | version u32 | header_len u32 | pid u32 | role u32 | used u64 | 0..
//! record   len u32 (whole record, multiple of 8) | tag u8 | kind u8 | mode u8 | 0 u8 | body
//! family   tag 1: name, help, unit ("" = none), label names, bucket bounds, and for a
//!          histogram with native buckets their capacity u32 (absent or 0: classic only)
//! series   tag 2: family offset u32, origin pid u32, slot count u32, label values,
//!          padding to 8, then the slots (8-byte atomics)
//! folded   tag 3: the name of a process file already folded into the archive
//! ```
//!
//! The writer appends a whole record, then publishes it by storing the new `used` with
//! release ordering; readers load `used` with acquire ordering and parse only up to it, so
//! a crash mid-append leaves an unpublished tail that nobody reads. Strings are a `u32`
//! length and UTF-8 bytes. A file whose magic or version differs is foreign and ignored.

use super::gauge_mode::GaugeMode;
use crate::model::MetricType;
use crate::storage::layout::SeriesLayout;
use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) const MAGIC: [u8; 8] = *b"GDSMPROC";
pub(crate) const VERSION: u32 = 1;
pub(crate) const HEADER_LEN: usize = 64;
const USED_OFFSET: usize = 24;
const PID_OFFSET: usize = 16;
const ROLE_OFFSET: usize = 20;

const TAG_FAMILY: u8 = 1;
const TAG_SERIES: u8 = 2;
const TAG_FOLDED: u8 = 3;

/// Whether a file belongs to a running process or is the archive of folded ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Process = 1,
    Archive = 2,
}

/// A header for a new file.
pub(crate) fn header(pid: u32, role: Role) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h[12..16].copy_from_slice(&(HEADER_LEN as u32).to_le_bytes());
    h[PID_OFFSET..PID_OFFSET + 4].copy_from_slice(&pid.to_le_bytes());
    h[ROLE_OFFSET..ROLE_OFFSET + 4].copy_from_slice(&(role as u32).to_le_bytes());
    h[USED_OFFSET..USED_OFFSET + 8].copy_from_slice(&(HEADER_LEN as u64).to_le_bytes());
    h
}

/// The `used` word of a mapped file, for publishing and reading appended records.
///
/// # Safety
/// `base` must point at a mapped header of at least [`HEADER_LEN`] bytes, 8-byte aligned,
/// that stays mapped while the reference is used.
pub(crate) unsafe fn used_word<'a>(base: *const u8) -> &'a AtomicU64 {
    // SAFETY: the caller promises an aligned header that stays mapped.
    unsafe { &*(base.add(USED_OFFSET) as *const AtomicU64) }
}

/// Writes `pid` into a header image.
pub(crate) fn set_pid(image: &mut [u8], pid: u32) {
    image[PID_OFFSET..PID_OFFSET + 4].copy_from_slice(&pid.to_le_bytes());
}

/// Writes `used` into a header image (for files written whole, not appended to).
pub(crate) fn set_used(image: &mut [u8], used: usize) {
    image[USED_OFFSET..USED_OFFSET + 8].copy_from_slice(&(used as u64).to_le_bytes());
}

fn kind_code(kind: MetricType) -> u8 {
    match kind {
        MetricType::Counter => 1,
        MetricType::Gauge => 2,
        MetricType::Histogram => 3,
        MetricType::Summary => 4,
        MetricType::Info => 5,
        // Kinds without storage of their own (collectors write them) are never in a file.
        MetricType::StateSet | MetricType::Unknown => 0,
    }
}

fn kind_from_code(code: u8) -> Option<MetricType> {
    Some(match code {
        1 => MetricType::Counter,
        2 => MetricType::Gauge,
        3 => MetricType::Histogram,
        4 => MetricType::Summary,
        5 => MetricType::Info,
        _ => return None,
    })
}

/// A family as written in a file: enough to render it without the writer's registry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FamilyDef {
    pub(crate) name: String,
    pub(crate) help: String,
    pub(crate) unit: Option<String>,
    pub(crate) kind: MetricType,
    pub(crate) mode: GaugeMode,
    pub(crate) labels: Vec<String>,
    pub(crate) bounds: Vec<f64>,
    /// Native buckets per sign a histogram series keeps (0: classic only).
    pub(crate) native_capacity: u32,
    /// Each series keeps its newest exemplar (`exemplar_slots`).
    pub(crate) exemplars: bool,
}

/// A series as found in a file: its family, where its label values and slots are. It
/// borrows nothing: the values stay in the file's bytes, so parsing a file allocates
/// nothing per series.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SeriesDef {
    pub(crate) family: usize,
    /// Set in the archive for `all` gauges of folded processes; 0 means the file's pid.
    pub(crate) origin_pid: u32,
    /// Byte range of the label values in the file, as written: for each value a `u32`
    /// length and its UTF-8 bytes (checked when parsed). Equal values are equal bytes.
    pub(crate) values_at: usize,
    pub(crate) values_len: usize,
    /// Byte offset of the first slot in the file.
    pub(crate) slots_at: usize,
    pub(crate) slot_count: usize,
}

impl SeriesDef {
    /// The encoded label values in `bytes`, the file this series was parsed from.
    pub(crate) fn raw_values<'b>(&self, bytes: &'b [u8]) -> &'b [u8] {
        bytes
            .get(self.values_at..self.values_at + self.values_len)
            .unwrap_or_default()
    }
}

/// The values of an encoded label value list (as [`SeriesDef::raw_values`] holds), in
/// order; stops at the first length that runs past the end.
pub(crate) fn split_values(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = raw;
    std::iter::from_fn(move || {
        let n = u32::from_le_bytes(rest.get(..4)?.try_into().expect("four bytes")) as usize;
        let value = rest.get(4..4 + n)?;
        rest = &rest[4 + n..];
        Some(value)
    })
}

/// The parsed records of one file, kept so that records published later are parsed on
/// their own (a file is only ever appended to).
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub(crate) pid: u32,
    pub(crate) families: Vec<FamilyDef>,
    pub(crate) series: Vec<SeriesDef>,
    pub(crate) folded: Vec<String>,
    /// File offset of each family record, in `families` order.
    family_at: Vec<usize>,
    /// Where the next record starts.
    next_at: usize,
}

/// Appends records to a byte buffer whose start is file offset `base`.
pub(crate) struct RecordWriter {
    buf: Vec<u8>,
}

impl RecordWriter {
    pub(crate) fn new() -> Self {
        Self { buf: Vec::new() }
    }

    /// The bytes written so far.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Starts a record, returns its start within the buffer.
    fn begin(&mut self, tag: u8, kind: u8, mode: u8) -> usize {
        let start = self.buf.len();
        self.buf.extend_from_slice(&0u32.to_le_bytes());
        self.buf.extend_from_slice(&[tag, kind, mode, 0]);
        start
    }

    fn pad(&mut self) {
        while !self.buf.len().is_multiple_of(8) {
            self.buf.push(0);
        }
    }

    fn end(&mut self, start: usize) {
        self.pad();
        let len = (self.buf.len() - start) as u32;
        self.buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
    }

    fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// A family record; returns its start within the buffer.
    pub(crate) fn family(&mut self, def: &FamilyDef) -> usize {
        let start = self.begin(TAG_FAMILY, kind_code(def.kind), def.mode.code());
        self.str(&def.name);
        self.str(&def.help);
        self.str(def.unit.as_deref().unwrap_or(""));
        self.u32(def.labels.len() as u32);
        def.labels.iter().for_each(|l| self.str(l));
        self.u32(def.bounds.len() as u32);
        def.bounds
            .iter()
            .for_each(|b| self.buf.extend_from_slice(&b.to_bits().to_le_bytes()));
        if def.native_capacity > 0 || def.exemplars {
            self.u32(def.native_capacity);
            self.u32(u32::from(def.exemplars));
        }
        self.end(start);
        start
    }

    /// A series record with the given slot words; returns the offset of its first slot
    /// within the buffer.
    pub(crate) fn series<V: AsRef<str>>(
        &mut self,
        family_offset: usize,
        origin_pid: u32,
        values: &[V],
        slots: &[u64],
    ) -> usize {
        let start = self.begin(TAG_SERIES, 0, 0);
        self.u32(family_offset as u32);
        self.u32(origin_pid);
        self.u32(slots.len() as u32);
        self.u32(values.len() as u32);
        values.iter().for_each(|v| self.str(v.as_ref()));
        self.slots(start, slots)
    }

    /// A series record whose label values are already encoded (`count` values in `raw`,
    /// as [`SeriesDef::raw_values`] holds them).
    pub(crate) fn series_raw(
        &mut self,
        family_offset: usize,
        origin_pid: u32,
        count: usize,
        raw: &[u8],
        slots: &[u64],
    ) {
        let start = self.begin(TAG_SERIES, 0, 0);
        self.u32(family_offset as u32);
        self.u32(origin_pid);
        self.u32(slots.len() as u32);
        self.u32(count as u32);
        self.buf.extend_from_slice(raw);
        self.slots(start, slots);
    }

    /// Ends the series record begun at `start` with its slots; returns where they begin.
    fn slots(&mut self, start: usize, slots: &[u64]) -> usize {
        self.pad();
        let slots_at = self.buf.len();
        slots
            .iter()
            .for_each(|s| self.buf.extend_from_slice(&s.to_le_bytes()));
        self.end(start);
        slots_at
    }

    /// A record naming a process file already folded into the archive.
    pub(crate) fn folded(&mut self, name: &str) {
        let start = self.begin(TAG_FOLDED, 0, 0);
        self.str(name);
        self.end(start);
    }
}

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed(pub(crate) &'static str);

/// Checks the header of `bytes` and returns the published length and the pid. A file
/// that no one writes any more is `complete`: it must hold everything it published.
pub(crate) fn check_header(bytes: &[u8], role: Role, complete: bool) -> Result<(usize, u32), Malformed> {
    if bytes.len() < HEADER_LEN {
        return Err(Malformed("shorter than a header"));
    }
    if bytes[..8] != MAGIC {
        return Err(Malformed("not a gds-metrics file (wrong magic)"));
    }
    if read_u32(bytes, 8) != Some(VERSION) || read_u32(bytes, 12) != Some(HEADER_LEN as u32) {
        return Err(Malformed("unsupported file version"));
    }
    if read_u32(bytes, ROLE_OFFSET) != Some(role as u32) {
        return Err(Malformed("file of another role"));
    }
    // SAFETY: the header is in bounds; `bytes` comes from an 8-byte aligned mapping or
    // an aligned buffer (checked below).
    if !(bytes.as_ptr() as usize).is_multiple_of(8) {
        return Err(Malformed("misaligned buffer"));
    }
    // SAFETY: in bounds and aligned, as checked above.
    let used = unsafe { used_word(bytes.as_ptr()) }.load(Ordering::Acquire) as usize;
    let pid = read_u32(bytes, PID_OFFSET).unwrap_or(0);
    if used < HEADER_LEN {
        return Err(Malformed("published length shorter than the header"));
    }
    if complete && used > bytes.len() {
        return Err(Malformed("truncated: shorter than its published length"));
    }
    // A writer grows the file before publishing, so a longer `used` only means this
    // mapping predates the growth: read what the mapping holds.
    Ok((used.min(bytes.len()), pid))
}

/// Parses the records of a mapped file (`complete` as for [`check_header`]). `bytes` must
/// be 8-byte aligned.
pub(crate) fn parse(bytes: &[u8], role: Role, complete: bool) -> Result<Parsed, Malformed> {
    let mut parsed = Parsed {
        next_at: HEADER_LEN,
        ..Parsed::default()
    };
    parsed.resume(bytes, role, complete)?;
    Ok(parsed)
}

impl Parsed {
    /// Parses the records published since the last parse of this file, whose bytes (the
    /// same file, possibly mapped again since) are `bytes`; returns how many new family
    /// records it found.
    pub(crate) fn resume(&mut self, bytes: &[u8], role: Role, complete: bool) -> Result<usize, Malformed> {
        let (used, pid) = check_header(bytes, role, complete)?;
        self.pid = pid;
        let families_before = self.families.len();
        let mut at = self.next_at;
        while at + 8 <= used {
            let len = read_u32(bytes, at).ok_or(Malformed("truncated record"))? as usize;
            if len < 8 || !len.is_multiple_of(8) {
                return Err(Malformed("bad record length"));
            }
            if at + len > used {
                // A record the writer had not finished growing into when this file was mapped.
                break;
            }
            let record = &bytes[at..at + len];
            let mut r = Reader { bytes: record, at: 8 };
            match record[4] {
                TAG_FAMILY => {
                    self.families.push(read_family(&mut r, record[5], record[6])?);
                    self.family_at.push(at);
                }
                TAG_SERIES => {
                    let series = self.read_series(&mut r, at)?;
                    self.series.push(series);
                }
                TAG_FOLDED => self.folded.push(r.string()?.to_owned()),
                _ => return Err(Malformed("unknown record tag")),
            }
            at += len;
        }
        self.next_at = at;
        Ok(self.families.len() - families_before)
    }

    /// A series record at file offset `at`, read past its header by `r`.
    fn read_series(&self, r: &mut Reader<'_>, at: usize) -> Result<SeriesDef, Malformed> {
        let family_offset = r.u32()? as usize;
        let family = self.family_of(family_offset)?;
        let origin_pid = r.u32()?;
        let slot_count = r.u32()? as usize;
        let n = r.u32()? as usize;
        let values_start = r.at;
        for _ in 0..n {
            r.string()?;
        }
        let values_len = r.at - values_start;
        r.align();
        let def = &self.families[family];
        if n != def.labels.len() || slot_count != slot_count_of(def) {
            return Err(Malformed("series does not fit its family"));
        }
        if r.at + slot_count * 8 > r.bytes.len() {
            return Err(Malformed("slots past the record"));
        }
        Ok(SeriesDef {
            family,
            origin_pid,
            values_at: at + values_start,
            values_len,
            slots_at: at + r.at,
            slot_count,
        })
    }

    /// The index of the family whose record starts at `offset`. Series follow their
    /// family's record closely, so the newest families are looked at first.
    fn family_of(&self, offset: usize) -> Result<usize, Malformed> {
        self.family_at
            .iter()
            .rposition(|f| *f == offset)
            .ok_or(Malformed("series of an unknown family"))
    }
}

/// Sets every slot of every series in a file image to zero, keeping the records (what a
/// forked child starts from: its parent's series, none of its parent's counts).
pub(crate) fn zero_slots(image: &mut [u8]) {
    let mut at = HEADER_LEN;
    while let Some(len) = read_u32(image, at).map(|l| l as usize) {
        if len < 8 || at + len > image.len() {
            return;
        }
        if image[at + 4] == TAG_SERIES {
            let mut r = Reader {
                bytes: &image[at..at + len],
                at: 8,
            };
            let slots = (|| {
                let _family = r.u32()?;
                let _origin = r.u32()?;
                let count = r.u32()? as usize;
                for _ in 0..r.u32()? {
                    r.string()?;
                }
                r.align();
                Ok::<_, Malformed>((r.at, count))
            })();
            if let Ok((start, count)) = slots {
                let end = (at + start + count * 8).min(at + len);
                image[at + start..end].fill(0);
            }
        }
        at += len;
    }
}

impl FamilyDef {
    /// Where each value of a series of this family is in its slots.
    pub(crate) fn layout(&self) -> SeriesLayout {
        SeriesLayout::new(
            self.kind,
            self.bounds.len(),
            self.native_capacity as usize,
            self.exemplars,
        )
    }
}

/// The slot count of a series of `def`.
pub(crate) fn slot_count_of(def: &FamilyDef) -> usize {
    def.layout().len()
}

/// Where a series of `def` keeps its exemplar region, if it has one.
pub(crate) fn exemplar_start(def: &FamilyDef) -> Option<usize> {
    def.layout().exemplar_start()
}

fn read_family(r: &mut Reader<'_>, kind: u8, mode: u8) -> Result<FamilyDef, Malformed> {
    let kind = kind_from_code(kind).ok_or(Malformed("unknown metric kind"))?;
    let mode = GaugeMode::from_code(mode).ok_or(Malformed("unknown gauge mode"))?;
    let name = r.string()?.to_owned();
    let help = r.string()?.to_owned();
    let unit = Some(r.string()?.to_owned()).filter(|u| !u.is_empty());
    let n = r.u32()? as usize;
    let labels = (0..n)
        .map(|_| r.string().map(str::to_owned))
        .collect::<Result<Vec<_>, _>>()?;
    let n = r.u32()? as usize;
    let bounds = (0..n)
        .map(|_| r.u64().map(f64::from_bits))
        .collect::<Result<Vec<_>, _>>()?;
    // Records end in zero padding, so a family written before native buckets existed
    // reads as capacity 0.
    let native_capacity = r.u32().unwrap_or(0);
    let exemplars = r.u32().unwrap_or(0) == 1;
    let native_capacity = if kind == MetricType::Histogram {
        native_capacity
    } else {
        0
    };
    let exemplars = exemplars && matches!(kind, MetricType::Counter | MetricType::Histogram);
    if native_capacity > 1 << 16 {
        return Err(Malformed("native bucket capacity out of range"));
    }
    Ok(FamilyDef {
        name,
        help,
        unit,
        kind,
        mode,
        labels,
        bounds,
        native_capacity,
        exemplars,
    })
}

/// `bytes` as text if it is UTF-8. Label values are short and nearly always ASCII, which
/// is checked in a few instructions where the general check costs about a hundred.
pub(crate) fn utf8(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is UTF-8.
        return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).ok()
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_le_bytes(b.try_into().expect("four bytes")))
}

struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Result<&'b [u8], Malformed> {
        let end = self.at.checked_add(n).ok_or(Malformed("length overflow"))?;
        let out = self
            .bytes
            .get(self.at..end)
            .ok_or(Malformed("field past the record"))?;
        self.at = end;
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, Malformed> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("four bytes")))
    }

    fn u64(&mut self) -> Result<u64, Malformed> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("eight bytes")))
    }

    fn string(&mut self) -> Result<&'b str, Malformed> {
        let n = self.u32()? as usize;
        let bytes = self.take(n)?;
        utf8(bytes).ok_or(Malformed("a name or label value is not UTF-8"))
    }

    fn align(&mut self) {
        self.at = self.at.next_multiple_of(8);
    }
}

/// The slots of `series` in `bytes`, the 8-byte aligned mapping it was parsed from, for
/// atomic reads (a writer may be updating them); empty if they are not in `bytes`.
pub(crate) fn slots<'b>(bytes: &'b [u8], series: &SeriesDef) -> &'b [AtomicU64] {
    let in_bounds = series
        .slot_count
        .checked_mul(8)
        .and_then(|len| bytes.get(series.slots_at..series.slots_at.checked_add(len)?));
    match in_bounds {
        Some(region) if (region.as_ptr() as usize).is_multiple_of(8) => {
            // SAFETY: in bounds and 8-byte aligned (both checked); the mapping outlives the
            // borrow of `bytes`, and other processes only ever write the slots atomically.
            unsafe { std::slice::from_raw_parts(region.as_ptr().cast::<AtomicU64>(), series.slot_count) }
        }
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aligned(bytes: &[u8]) -> Vec<u64> {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        // SAFETY: `words` holds at least `bytes.len()` bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), words.as_mut_ptr() as *mut u8, bytes.len()) };
        words
    }

    fn as_bytes(words: &[u64]) -> &[u8] {
        // SAFETY: plain reinterpretation of initialised words.
        unsafe { std::slice::from_raw_parts(words.as_ptr() as *const u8, words.len() * 8) }
    }

    #[test]
    fn native_capacity_round_trips_and_sizes_the_series() {
        for capacity in [0, 3, 160] {
            let def = FamilyDef {
                name: "n".into(),
                help: String::new(),
                unit: None,
                kind: MetricType::Histogram,
                mode: GaugeMode::All,
                labels: Vec::new(),
                bounds: vec![1.0],
                native_capacity: capacity,
                exemplars: capacity == 3,
            };
            let mut w = RecordWriter::new();
            w.family(&def);
            let mut image = header(1, Role::Process).to_vec();
            image.extend_from_slice(w.bytes());
            let len = image.len();
            set_used(&mut image, len);
            let words = aligned(&image);
            let parsed = parse(&as_bytes(&words)[..len], Role::Process, true).unwrap();
            assert_eq!(parsed.families[0], def);
            let native = if capacity == 0 {
                0
            } else {
                crate::storage::layout::native_len(capacity as usize)
            };
            let exemplar = if def.exemplars {
                crate::storage::layout::EXEMPLAR_LEN
            } else {
                0
            };
            assert_eq!(slot_count_of(&def), 3 + native + exemplar);
        }
    }

    #[test]
    fn records_round_trip() {
        let def = FamilyDef {
            name: "h".into(),
            help: "help \"quoted\"".into(),
            unit: None,
            kind: MetricType::Histogram,
            mode: GaugeMode::All,
            labels: vec!["a".into()],
            bounds: vec![0.5, 1.0],
            native_capacity: 0,
            exemplars: false,
        };
        let mut w = RecordWriter::new();
        let family_at = HEADER_LEN + w.family(&def);
        let slots_at = HEADER_LEN + w.series(family_at - HEADER_LEN + HEADER_LEN, 7, &["x"], &[1, 2, 3, 9]);
        w.folded("proc-1-2.gdsm");
        let mut image = header(42, Role::Archive).to_vec();
        image.extend_from_slice(w.bytes());
        let len = image.len();
        set_used(&mut image, len);
        let words = aligned(&image);
        let parsed = parse(as_bytes(&words), Role::Archive, true).unwrap();
        assert_eq!(parsed.pid, 42);
        assert_eq!(parsed.families, vec![def]);
        let values: Vec<&[u8]> = split_values(parsed.series[0].raw_values(as_bytes(&words))).collect();
        assert_eq!(values, vec![&b"x"[..]]);
        assert_eq!(parsed.series[0].origin_pid, 7);
        assert_eq!(parsed.series[0].slots_at, slots_at);
        assert_eq!(
            slots(as_bytes(&words), &parsed.series[0])[3].load(Ordering::Relaxed),
            9
        );
        assert_eq!(parsed.folded, vec!["proc-1-2.gdsm".to_owned()]);
    }

    #[test]
    fn foreign_and_short_files_are_malformed() {
        let words = aligned(&[0u8; 100]);
        assert_eq!(
            parse(as_bytes(&words), Role::Process, true).unwrap_err(),
            Malformed("not a gds-metrics file (wrong magic)")
        );
        let words = aligned(&MAGIC);
        assert_eq!(
            parse(&as_bytes(&words)[..8], Role::Process, true).unwrap_err(),
            Malformed("shorter than a header")
        );
    }
}
