//! Info metrics: a constant `1` whose labels carry facts (a version, a build).

use super::Metric;
use crate::descriptor::{Descriptor, MetricType};
use crate::exposition::FamilyEncoder;
use std::sync::Arc;

/// One info series. The facts are its label values; create it with
/// [`Family::labels`](crate::Family::labels) and keep it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Info;

impl Metric for Info {
    const TYPE: MetricType = MetricType::Info;
    type Config = ();

    fn new_series(_: &Arc<Descriptor>, _: &()) -> Self {
        Info
    }

    fn encode<V: AsRef<str>>(&self, _: &(), family: &mut FamilyEncoder<'_, '_>, values: &[V]) {
        family.info(values);
    }
}
