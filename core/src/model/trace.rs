//! The ids of a sampled trace, as an exemplar carries them (reading them from a
//! `traceparent` header is [`crate::traceparent`]'s job).

/// The exemplar label names of the ids.
pub const TRACE_ID_LABEL: &str = "trace_id";
/// See [`TRACE_ID_LABEL`].
pub const SPAN_ID_LABEL: &str = "span_id";

const TRACE_ID_HEX: usize = 32;
const SPAN_ID_HEX: usize = 16;

/// The ids of a sampled trace, kept as their 48 lower-case hex digits (trace id, then span
/// id): an exemplar carries them without allocating.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceIds {
    hex: [u8; TRACE_ID_HEX + SPAN_ID_HEX],
}

impl TraceIds {
    /// The ids from their digits, already checked to be 32 and 16 lower-case hex digits.
    pub(crate) fn from_checked_hex(trace_id: &[u8; TRACE_ID_HEX], span_id: &[u8; SPAN_ID_HEX]) -> TraceIds {
        let mut hex = [0u8; TRACE_ID_HEX + SPAN_ID_HEX];
        hex[..TRACE_ID_HEX].copy_from_slice(trace_id);
        hex[TRACE_ID_HEX..].copy_from_slice(span_id);
        TraceIds { hex }
    }

    /// The trace id: 32 lower-case hex digits.
    pub fn trace_id(&self) -> &str {
        self.ascii(..TRACE_ID_HEX)
    }

    /// The span id (the caller's, the spec's `parent-id`): 16 lower-case hex digits.
    pub fn span_id(&self) -> &str {
        self.ascii(TRACE_ID_HEX..)
    }

    fn ascii(&self, range: impl std::slice::SliceIndex<[u8], Output = [u8]>) -> &str {
        // Checked to be ASCII hex digits when built.
        std::str::from_utf8(&self.hex[range]).unwrap_or_default()
    }
}

impl std::fmt::Debug for TraceIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceIds")
            .field("trace_id", &self.trace_id())
            .field("span_id", &self.span_id())
            .finish()
    }
}
