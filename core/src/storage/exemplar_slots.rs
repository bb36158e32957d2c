//! A series' newest exemplar in its slots (families registered with
//! `Opts::exemplars_across_processes`), so the aggregate of all workers shows, per bucket,
//! the newest exemplar any worker recorded.
//!
//! The region's layout is in [`crate::storage::layout`].

use super::Slots;
use crate::model::Exemplar;
use crate::storage::layout::{
    EXEMPLAR_BUCKET as BUCKET, EXEMPLAR_BYTES, EXEMPLAR_LABELS as BYTES, EXEMPLAR_LABELS_LEN as LEN,
    EXEMPLAR_LEN, EXEMPLAR_SEQ as SEQ, EXEMPLAR_TIMESTAMP as TIMESTAMP, EXEMPLAR_VALUE as VALUE,
};
use std::sync::atomic::{fence, Ordering};

fn encode_labels(exemplar: &Exemplar) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(64);
    for (name, value) in exemplar.labels() {
        for part in [name, value] {
            bytes.extend_from_slice(&(part.len() as u16).to_le_bytes());
            bytes.extend_from_slice(part.as_bytes());
        }
    }
    bytes
}

/// Stores `exemplar` of classic bucket `bucket` as the series' newest.
pub(crate) fn write(slots: &Slots, start: usize, bucket: usize, exemplar: &Exemplar) {
    let bytes = encode_labels(exemplar);
    let bytes = &bytes[..bytes.len().min(EXEMPLAR_BYTES)];
    slots.write_begin(start + SEQ);
    slots.set_u64(start + BUCKET, bucket as u64);
    slots.set_f64(start + VALUE, exemplar.value());
    slots.set_f64(start + TIMESTAMP, exemplar.timestamp());
    slots.set_u64(start + LEN, bytes.len() as u64);
    for (i, chunk) in bytes.chunks(8).enumerate() {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        slots.set_u64(start + BYTES + i, u64::from_le_bytes(word));
    }
    slots.write_end(start + SEQ);
}

/// The exemplar in the region read through `load`, with its bucket; `None` when none was
/// recorded or the region does not decode (a damaged file).
pub(crate) fn read(load: &dyn Fn(usize) -> u64, start: usize) -> Option<(usize, Exemplar)> {
    for _ in 0..1000 {
        let before = load(start + SEQ);
        fence(Ordering::Acquire);
        let found = read_once(load, start);
        fence(Ordering::Acquire);
        if before.is_multiple_of(2) && before == load(start + SEQ) {
            return found;
        }
        std::hint::spin_loop();
    }
    None
}

fn read_once(load: &dyn Fn(usize) -> u64, start: usize) -> Option<(usize, Exemplar)> {
    let len = load(start + LEN) as usize;
    if len == 0 || len > EXEMPLAR_BYTES {
        return None;
    }
    let bytes: Vec<u8> = (0..len.div_ceil(8))
        .flat_map(|i| load(start + BYTES + i).to_le_bytes())
        .take(len)
        .collect();
    let mut parts = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let n = u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?) as usize;
        parts.push(std::str::from_utf8(bytes.get(at + 2..at + 2 + n)?).ok()?);
        at += 2 + n;
    }
    if parts.len() % 2 != 0 {
        return None;
    }
    let labels: Vec<(&str, &str)> = parts.chunks(2).map(|p| (p[0], p[1])).collect();
    let value = f64::from_bits(load(start + VALUE));
    let timestamp = f64::from_bits(load(start + TIMESTAMP));
    let exemplar = Exemplar::at("", &labels, value, timestamp).ok()?;
    Some((load(start + BUCKET) as usize, exemplar))
}

/// The words of a region holding `exemplar` of `bucket`, for files written whole.
pub(crate) fn words(bucket: usize, exemplar: &Exemplar) -> Vec<u64> {
    let mut words = vec![0u64; EXEMPLAR_LEN];
    let bytes = encode_labels(exemplar);
    let bytes = &bytes[..bytes.len().min(EXEMPLAR_BYTES)];
    words[BUCKET] = bucket as u64;
    words[VALUE] = exemplar.value().to_bits();
    words[TIMESTAMP] = exemplar.timestamp().to_bits();
    words[LEN] = bytes.len() as u64;
    for (i, chunk) in bytes.chunks(8).enumerate() {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        words[BYTES + i] = u64::from_le_bytes(word);
    }
    words
}
