//! What the benches share: each peer library's own way of carrying the two string labels
//! (`method`, `path`) that every labelled case uses, and our registry holding them.

#![allow(dead_code)]

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(crate) struct FastLabels {
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
pub(crate) struct MeasuredLabels<'a> {
    #[label(dynamic_with = paracord::ParaCord)]
    pub method: &'a str,
    #[label(dynamic_with = paracord::ParaCord)]
    pub path: &'a str,
}

pub(crate) fn measured_label_set() -> MeasuredLabelSet {
    MeasuredLabelSet {
        method: paracord::ParaCord::default(),
        path: paracord::ParaCord::default(),
    }
}

/// Our registry with the counter family `requests{method, path}`, one series per label
/// pair, each incremented once.
pub(crate) fn ours_requests(labels: &[(&'static str, &'static str)]) -> gds_metrics::Registry {
    let registry = gds_metrics::Registry::new();
    // Every series is measured: the default limit (2,000) would fold the rest into one.
    registry.set_series_limit(usize::MAX);
    let family = registry
        .counter(gds_metrics::Opts::new("requests", "Requests.").labels(["method", "path"]))
        .unwrap();
    labels
        .iter()
        .for_each(|(m, p)| family.with(&[*m, *p], |c| c.inc()).unwrap());
    assert_eq!(
        family.series_count(),
        labels.len(),
        "every label pair is a series of its own"
    );
    registry
}
