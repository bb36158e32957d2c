//! Label types shared by the benches: each peer library's own way of carrying the two
//! string labels (`method`, `path`) that every labelled case uses.

#![allow(dead_code)]

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct FastLabels {
    pub method: &'static str,
    pub path: &'static str,
}

impl fastmetrics::raw::LabelSetSchema for FastLabels {
    fn names() -> Option<&'static [&'static str]> {
        Some(&["method", "path"])
    }
}

impl fastmetrics::encoder::EncodeLabelSet for FastLabels {
    fn encode(
        &self,
        encoder: &mut dyn fastmetrics::encoder::LabelSetEncoder,
    ) -> fastmetrics::error::Result<()> {
        encoder.encode(&("method", self.method))?;
        encoder.encode(&("path", self.path))
    }
}

#[derive(Clone, Copy, PartialEq, Debug, measured::LabelGroup)]
#[label(set = MeasuredLabelSet)]
pub struct MeasuredLabels<'a> {
    #[label(dynamic_with = paracord::ParaCord)]
    pub method: &'a str,
    #[label(dynamic_with = paracord::ParaCord)]
    pub path: &'a str,
}

pub fn measured_label_set() -> MeasuredLabelSet {
    MeasuredLabelSet {
        method: paracord::ParaCord::default(),
        path: paracord::ParaCord::default(),
    }
}
