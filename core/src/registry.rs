//! The registry: the set of metric families and collectors one endpoint exposes.

use crate::error::{Error, Result};
use crate::exposed::{exposed_names, ExposedName};
use crate::exposition::{Encoder, Escaping, Format};
use crate::metrics::self_metrics::{LazyCounter, COLLECTOR_FAILURES, RESERVED_PREFIX, SERIES_REFUSED};
use crate::metrics::{
    Buckets, Counter, Family, Gauge, Histogram, HistogramConfig, Info, Metric, SeriesLimit, Summary,
    DEFAULT_SERIES_LIMIT,
};
use crate::model::name::NameValidation;
use crate::model::{Descriptor, NativeBuckets, Opts, SeriesSink};
use crate::multiprocess::{self, GaugeMode, MultiProcess};
use parking_lot::{Mutex, RwLock};
use std::any::Any;
use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

/// Something that writes metric families at scrape time.
///
/// Every [`Family`] is a collector. Exporter authors implement it for values computed when
/// Prometheus asks (files in a directory, rows in a table):
///
/// ```
/// use gds_metrics::{Collector, Descriptor, Encoder, FamilySnapshot, MetricType, Opts, OwnedValue};
/// use gds_metrics::{Quantile, Registry, SeriesSnapshot, SeriesValue};
/// use std::sync::Arc;
///
/// struct Uptime(Descriptor);
/// impl Collector for Uptime {
///     fn descriptors(&self) -> Vec<Descriptor> {
///         vec![self.0.clone()]
///     }
///     fn collect(&self, encoder: &mut Encoder<'_>) {
///         // A borrowed value, written as it is handed over...
///         encoder.family(&self.0).series::<&str>(&[], None, &SeriesValue::Gauge(42.0));
///     }
/// }
///
/// struct Latency(Descriptor);
/// impl Collector for Latency {
///     fn descriptors(&self) -> Vec<Descriptor> {
///         vec![self.0.clone()]
///     }
///     fn collect(&self, encoder: &mut Encoder<'_>) {
///         // ...or a family built whole, as a bridge to another library does.
///         let median = Quantile { quantile: 0.5, value: 0.2 };
///         encoder.write(&FamilySnapshot {
///             descriptor: self.0.clone(),
///             series: vec![SeriesSnapshot {
///                 labels: Vec::new(),
///                 value: OwnedValue::Summary { count: 3, sum: 0.7, created: None, quantiles: vec![median] },
///             }],
///         });
///     }
/// }
///
/// let registry = Registry::new();
/// let desc = Descriptor::new(Opts::new("uptime_seconds", "Seconds since start."), MetricType::Gauge)?;
/// registry.register(Arc::new(Uptime(desc)))?;
/// let desc = Descriptor::new(Opts::new("latency_seconds", "Request latency."), MetricType::Summary)?;
/// registry.register(Arc::new(Latency(desc)))?;
/// let text = registry.render(gds_metrics::Format::Text);
/// assert!(text.contains("latency_seconds{quantile=\"0.5\"} 0.2\nlatency_seconds_count 3.0\n"));
/// # Ok::<(), gds_metrics::Error>(())
/// ```
///
/// A collector that panics does not fail the scrape (CONTRACT section 4): whatever it
/// wrote is taken back out, every other family is still written, and the counter
/// `gds_metrics_collector_failures_total{collector="<its name>"}` goes up.
pub trait Collector: Send + Sync + 'static {
    /// The families this collector writes, checked for clashes when it is registered.
    fn descriptors(&self) -> Vec<Descriptor>;

    /// Writes the families, each once, through [`Encoder::family`].
    fn collect(&self, encoder: &mut Encoder<'_>);

    /// What the `collector` label of the failure counter calls this collector when
    /// `collect` panics. By default its type's name; a binding names the collector the
    /// user wrote (a Python class, a Ruby object).
    fn name(&self) -> String {
        std::any::type_name::<Self>().to_owned()
    }
}

impl<M: Metric> Collector for Family<M> {
    fn descriptors(&self) -> Vec<Descriptor> {
        vec![self.descriptor().clone()]
    }

    fn collect(&self, encoder: &mut Encoder<'_>) {
        self.encode(encoder);
    }

    fn name(&self) -> String {
        self.descriptor().name().to_owned()
    }
}

struct Registered {
    names: Vec<String>,
    /// The names as each escaping writes them, checked against later families.
    exposed: Vec<ExposedName>,
    collector: Arc<dyn Collector>,
    /// Written to the multi-process file: rendered from the directory's aggregate, not
    /// from this process's memory.
    stored: bool,
}

/// A set of metric families, rendered together by one scrape.
///
/// Registration checks every sample name a family would write against every other, so
/// `requests` (a counter, writing `requests_total`) and a gauge `requests_total` cannot
/// both be registered; and checks them again as every escaping a scrape can ask for
/// writes them, so `a.b` and `a_b` cannot both be registered either.
pub struct Registry {
    entries: RwLock<Vec<Registered>>,
    emit_created: AtomicBool,
    /// Only legacy names are accepted when an [`Opts`] does not say.
    legacy_names: AtomicBool,
    store: Option<Arc<MultiProcess>>,
    series_limit: AtomicUsize,
    refusals: Arc<LazyCounter>,
    /// Failed `collect` calls, by collector name.
    failures: LazyCounter,
    /// Sets of families registered once and shared by everything serving this registry
    /// (the default request metrics: an app factory or a test suite builds many
    /// endpoints), found by type.
    shared: Mutex<Vec<SharedEntry>>,
    /// Held while a set of shared families registers, so two endpoints built at once
    /// share one set (the registration may unregister, which takes `shared`).
    shared_registration: Mutex<()>,
}

/// A set of families registered together on first use and then shared by everything that
/// serves the registry, such as the default request metrics. Found by its type with
/// [`Registry::shared_families`]; forgotten when one of its families is unregistered, so
/// the next use registers it again.
pub trait SharedFamilies: Clone + Send + Sync + 'static {
    /// What the families are registered with, chosen by whoever uses them first.
    type Settings;

    /// Registers the families in `registry`.
    fn register(registry: &Registry, settings: &Self::Settings) -> Result<Self>;

    /// The names of the families, so unregistering one of them forgets the set.
    fn family_names() -> &'static [&'static str];
}

/// One registered set of [`SharedFamilies`].
struct SharedEntry {
    value: Box<dyn Any + Send + Sync>,
    names: &'static [&'static str],
}

impl Default for Registry {
    fn default() -> Self {
        Self::with_store(None)
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("collectors", &self.entries.read().len())
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn with_store(store: Option<Arc<MultiProcess>>) -> Self {
        let refusals = LazyCounter::new(
            SERIES_REFUSED,
            "Label sets recorded into the overflow series because the family had reached its series limit.",
            "family",
            store.clone(),
        );
        Registry {
            entries: RwLock::default(),
            emit_created: AtomicBool::new(false),
            legacy_names: AtomicBool::new(false),
            store: store.clone(),
            series_limit: AtomicUsize::new(DEFAULT_SERIES_LIMIT),
            refusals: Arc::new(refusals),
            failures: LazyCounter::new(
                COLLECTOR_FAILURES,
                "Times a collector failed (panicked) during a scrape; its families were left out of that scrape.",
                "collector",
                store.clone(),
            ),
            shared: Mutex::new(Vec::new()),
            shared_registration: Mutex::new(()),
        }
    }

    /// The series limit of families registered from now on without one of their own
    /// ([`Opts::series_limit`]); 2,000 unless changed.
    pub fn set_series_limit(&self, limit: usize) {
        self.series_limit.store(limit, Relaxed);
    }

    /// The series limit new families get unless their [`Opts`] set one.
    pub fn series_limit(&self) -> usize {
        self.series_limit.load(Relaxed)
    }

    /// The families `T` of this registry, registered on first use with `settings`:
    /// everything serving the registry (every endpoint, for the default request metrics)
    /// records into the same families. A later call gets the families already registered,
    /// whatever settings it gives; `T` tells whether they are the ones asked for.
    pub fn shared_families<T: SharedFamilies>(&self, settings: &T::Settings) -> Result<T> {
        let find = || {
            let shared = self.shared.lock();
            shared
                .iter()
                .find_map(|entry| entry.value.downcast_ref::<T>().cloned())
        };
        let _registering = self.shared_registration.lock();
        if let Some(found) = find() {
            return Ok(found);
        }
        let families = T::register(self, settings)?;
        self.shared.lock().push(SharedEntry {
            value: Box::new(families.clone()),
            names: T::family_names(),
        });
        Ok(families)
    }

    /// A registry for one process of a multi-process server. Families created through
    /// it ([`Registry::counter`], [`Registry::gauge_with_mode`], ...) write to this
    /// process's file in `store`'s directory, and [`Registry::encode`] renders the
    /// aggregate of every process there. Collectors added with [`Registry::register`]
    /// stay per-process and are rendered as they are.
    pub fn multiprocess(store: Arc<MultiProcess>) -> Registry {
        Registry::with_store(Some(store))
    }

    /// The multi-process store, if this registry aggregates a directory.
    pub fn multiprocess_store(&self) -> Option<&Arc<MultiProcess>> {
        self.store.as_ref()
    }

    /// Registers a counter family and returns it.
    pub fn counter(&self, opts: Opts) -> Result<Family<Counter>> {
        self.family(opts, ())
    }

    /// Registers a gauge family and returns it. In multi-process mode its processes'
    /// values are combined as [`GaugeMode::All`] does, as in `prometheus_client`.
    pub fn gauge(&self, opts: Opts) -> Result<Family<Gauge>> {
        self.gauge_with_mode(opts, GaugeMode::All)
    }

    /// Registers a gauge family whose values from several processes combine by `mode`
    /// (which only matters in multi-process mode). The per-process modes add a `pid`
    /// label, so the family may not have one of its own.
    pub fn gauge_with_mode(&self, opts: Opts, mode: GaugeMode) -> Result<Family<Gauge>> {
        if self.store.is_some() && mode.per_process() && opts.labels.iter().any(|l| l == "pid") {
            return Err(Error::InvalidLabelName {
                metric: opts.name,
                name: "pid".to_owned(),
                reason: "multi-process gauges in mode `all` or `liveall` add the `pid` label themselves; \
                         rename the label or pick another gauge mode",
            });
        }
        self.family_with_mode(opts, (), mode)
    }

    /// Registers a histogram family with the given bucket bounds (or
    /// [`DEFAULT_BUCKETS`](crate::DEFAULT_BUCKETS)) and returns it.
    pub fn histogram(&self, opts: Opts, buckets: Option<&[f64]>) -> Result<Family<Histogram>> {
        let buckets = match buckets {
            Some(bounds) => Buckets::new(&opts.name, bounds)?,
            None => Buckets::default(),
        };
        self.family(opts, HistogramConfig::classic(buckets))
    }

    /// Registers a histogram family with native (sparse, exponential) buckets, and
    /// classic ones beside them when `classic` bounds are given, and returns it.
    /// Prometheus reads native buckets from protobuf (`scrape_native_histograms: true`);
    /// the text formats show the classic buckets, or only `+Inf`, count and sum.
    ///
    /// ```
    /// use gds_metrics::{NativeBuckets, Opts, Registry};
    /// let registry = Registry::new();
    /// let latency = registry.native_histogram(
    ///     Opts::new("job_duration_seconds", "Time per job."),
    ///     NativeBuckets::new().max_buckets(100),
    ///     None,
    /// )?;
    /// latency.get()?.observe(0.25)?;
    /// # Ok::<(), gds_metrics::Error>(())
    /// ```
    pub fn native_histogram(
        &self,
        opts: Opts,
        native: NativeBuckets,
        classic: Option<&[f64]>,
    ) -> Result<Family<Histogram>> {
        let classic = classic
            .map(|bounds| Buckets::new(&opts.name, bounds))
            .transpose()?;
        let config = HistogramConfig::native(native, classic, &opts.name)?;
        self.family(opts, config)
    }

    /// Registers a summary family (count and sum) and returns it.
    pub fn summary(&self, opts: Opts) -> Result<Family<Summary>> {
        self.family(opts, ())
    }

    /// Registers an info family and returns it.
    pub fn info(&self, opts: Opts) -> Result<Family<Info>> {
        self.family(opts, ())
    }

    /// Builds a family of any kind from `opts` and registers it.
    pub fn family<M: Metric>(&self, opts: Opts, config: M::Config) -> Result<Family<M>> {
        self.family_with_mode(opts, config, GaugeMode::All)
    }

    fn family_with_mode<M: Metric>(
        &self,
        opts: Opts,
        config: M::Config,
        mode: GaugeMode,
    ) -> Result<Family<M>> {
        let limit = SeriesLimit {
            max: opts.series_limit.unwrap_or_else(|| self.series_limit()),
            refusals: self.refusals.clone(),
        };
        let desc = self.with_default_validation(opts).into_descriptor(M::TYPE)?;
        // Claim the names first, so a rejected family writes nothing to the file.
        let claims = Claims::of(std::slice::from_ref(&desc))?;
        self.check_free(&self.entries.read(), &claims)?;
        let store = (self.store.as_ref()).map(|mp| {
            mp.family_store(
                &desc,
                M::bucket_bounds(&config),
                M::native_capacity(&config),
                mode,
            )
        });
        let stored = store.is_some();
        let family = Family::<M>::with_store(desc, config, store, Some(limit));
        self.insert(Arc::new(family.clone()), stored)?;
        Ok(family)
    }

    /// `opts` with this registry's name validation unless it sets its own.
    fn with_default_validation(&self, mut opts: Opts) -> Opts {
        if opts.validation.is_none() && self.legacy_names.load(Relaxed) {
            opts.validation = Some(NameValidation::Legacy);
        }
        opts
    }

    /// Which names families registered from now on accept when their [`Opts`] do not
    /// say: any UTF-8 name (the default) or only the legacy set.
    pub fn set_name_validation(&self, validation: NameValidation) {
        self.legacy_names
            .store(validation == NameValidation::Legacy, Relaxed);
    }

    /// Registers a collector. Fails with [`Error::Duplicate`] if any of its sample names
    /// is already exposed by another collector, leaving the registry unchanged.
    pub fn register(&self, collector: Arc<dyn Collector>) -> Result<()> {
        self.insert(collector, false)
    }

    /// Whether a family described by `desc` would clash with one already registered (the
    /// check [`register`](Self::register) makes), for families written at scrape time by a
    /// collector that cannot declare them in advance: a binding leaves such a family out
    /// rather than write a name twice.
    pub fn clashes(&self, desc: &Descriptor) -> bool {
        Claims::of(std::slice::from_ref(desc))
            .and_then(|claims| self.check_free(&self.entries.read(), &claims))
            .is_err()
    }

    fn check_free(&self, entries: &[Registered], claims: &Claims) -> Result<()> {
        if let Some(name) = claims.names.iter().find(|n| n.starts_with(RESERVED_PREFIX)) {
            return Err(Error::ReservedName { name: name.clone() });
        }
        let taken: HashSet<&str> = entries
            .iter()
            .flat_map(|e| e.names.iter().map(String::as_str))
            .collect();
        if let Some(name) = claims.names.iter().find(|n| taken.contains(n.as_str())) {
            return Err(Error::Duplicate { name: name.clone() });
        }
        crate::exposed::check_free(&claims.exposed, entries.iter().flat_map(|e| &e.exposed))
    }

    fn insert(&self, collector: Arc<dyn Collector>, stored: bool) -> Result<()> {
        let claims = Claims::of(&collector.descriptors())?;
        let mut entries = self.entries.write();
        self.check_free(&entries, &claims)?;
        entries.push(Registered {
            names: claims.names,
            exposed: claims.exposed,
            collector,
            stored,
        });
        Ok(())
    }

    /// Removes the collector that writes the family `name`; returns whether there was one.
    pub fn unregister(&self, name: &str) -> bool {
        let mut entries = self.entries.write();
        let before = entries.len();
        entries.retain(|e| !e.collector.descriptors().iter().any(|d| d.name() == name));
        let removed = entries.len() != before;
        if removed {
            self.shared.lock().retain(|entry| !entry.names.contains(&name));
        }
        removed
    }

    /// Removes every collector.
    pub fn clear(&self) {
        self.entries.write().clear();
        self.shared.lock().clear();
    }

    /// Whether OpenMetrics output carries `_created` samples (off by default: they double
    /// the series count of counters for little use).
    pub fn set_emit_created(&self, emit: bool) {
        self.emit_created.store(emit, Relaxed);
    }

    /// Appends the whole exposition in `format` to `out`, names outside the legacy set
    /// escaped with underscores. Reuse `out` between scrapes to avoid allocating.
    pub fn encode(&self, format: Format, out: &mut Vec<u8>) {
        self.encode_with(format, Escaping::default(), out);
    }

    /// Appends the whole exposition in `format` to `out`, names outside the legacy set
    /// written as `escaping` says (quoted in text 1.0.0 and OpenMetrics under
    /// [`Escaping::AllowUtf8`]).
    pub fn encode_with(&self, format: Format, escaping: Escaping, out: &mut Vec<u8>) {
        let mut encoder = Encoder::new(format, out)
            .with_escaping(escaping)
            .with_created(self.emit_created.load(Relaxed));
        self.collect(&mut encoder);
        encoder.finish();
    }

    /// Writes every registered family into `encoder` without finishing it, so several
    /// sources (this registry and a multi-process view) can share one exposition.
    ///
    /// In multi-process mode the families of the directory's aggregate come first, then
    /// the per-process collectors; a family name a per-process collector claims is taken
    /// from that collector only.
    pub fn collect(&self, encoder: &mut Encoder<'_>) {
        let (collectors, local_names): (Vec<Arc<dyn Collector>>, HashSet<String>) = {
            let entries = self.entries.read();
            let local = entries.iter().filter(|e| !e.stored);
            (
                local.clone().map(|e| e.collector.clone()).collect(),
                local.flat_map(|e| e.names.iter().cloned()).collect(),
            )
        };
        if let Some(store) = &self.store {
            store.collect(&|name| local_names.contains(name), &mut |desc, series| {
                write_family(encoder, desc, series)
            });
        } else {
            debug_assert!(self.entries.read().iter().all(|e| !e.stored));
        }
        for collector in collectors {
            self.collect_one(&*collector, encoder);
        }
        self.failures.encode(encoder);
        self.refusals.encode(encoder);
    }

    /// Runs one collector; if it panics or reports a failure ([`Encoder::fail`]), takes
    /// back what it wrote and counts the failure.
    fn collect_one(&self, collector: &dyn Collector, encoder: &mut Encoder<'_>) {
        let written = encoder.written();
        // The encoder's buffer is only ever appended to, so cutting it back to `written`
        // restores a whole exposition whatever the collector left half done.
        encoder.take_failure();
        let finished = catch_unwind(AssertUnwindSafe(|| collector.collect(encoder))).is_ok();
        if finished && !encoder.take_failure() {
            return;
        }
        encoder.truncate(written);
        let name =
            catch_unwind(AssertUnwindSafe(|| collector.name())).unwrap_or_else(|_| "unknown".to_owned());
        self.failures.inc(&name);
    }

    /// The exposition as a `String`, for tests and debugging (text formats only:
    /// protobuf is binary, use [`Registry::encode`]).
    pub fn render(&self, format: Format) -> String {
        self.render_with(format, Escaping::default())
    }

    /// [`Registry::render`] with the given escaping.
    pub fn render_with(&self, format: Format, escaping: Escaping) -> String {
        let mut out = Vec::new();
        self.encode_with(format, escaping, &mut out);
        // The check alone, without the copy `from_utf8_lossy` makes of valid text.
        String::from_utf8(out).unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned())
    }
}

/// What registering some families claims: their names as declared and as each escaping
/// writes them.
struct Claims {
    names: Vec<String>,
    exposed: Vec<ExposedName>,
}

impl Claims {
    /// The claims of `descs`, failing on clashes among themselves.
    fn of(descs: &[Descriptor]) -> Result<Claims> {
        Ok(Claims {
            names: claimed_names(descs)?,
            exposed: exposed_names(descs)?,
        })
    }
}

/// The family names and every sample name the given families write, failing on clashes
/// among themselves.
fn claimed_names(descs: &[Descriptor]) -> Result<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    for desc in descs {
        let mut own: Vec<String> = std::iter::once(desc.name().to_owned())
            .chain(desc.sample_names())
            .collect();
        own.sort();
        own.dedup();
        if let Some(name) = own.iter().find(|n| names.contains(n)) {
            return Err(Error::Duplicate { name: name.clone() });
        }
        names.extend(own);
    }
    Ok(names)
}
/// Writes one family a source hands over series by series.
fn write_family(encoder: &mut Encoder<'_>, desc: &Descriptor, series: &mut dyn FnMut(&mut SeriesSink<'_>)) {
    let mut out = encoder.family(desc);
    series(&mut |values, extra, value| out.series(values, extra, value));
}

/// What a scrape takes from one multi-process file, rendered as text 0.0.4, or why the
/// file is not a readable gds-metrics file. The entry point of the file reader's fuzz
/// target (`core/fuzz`): another process's file may hold any bytes, and reading it must
/// never panic.
#[doc(hidden)]
pub fn render_mapped_file(bytes: &[u8]) -> std::result::Result<String, String> {
    let mut out = Vec::new();
    let mut encoder = Encoder::new(Format::Text, &mut out);
    multiprocess::visit_file(bytes, &mut |desc, series| {
        write_family(&mut encoder, desc, series)
    })?;
    encoder.finish();
    Ok(String::from_utf8(out).expect("the encoder writes UTF-8"))
}
