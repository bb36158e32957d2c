//! The broker's operations on the store, one function per Open Service Broker call.
//!
//! All state is in the store (see `gds_metrics::targets::records`): an instance record,
//! a binding record per binding, and the app's target file. Every operation is
//! idempotent and ordered so that a broker killed between any two steps leaves a state
//! the platform's retry (or the orphan mitigation that follows a failed call) completes:
//! - bind: read the app from the Cloud Controller, create the binding record, then write
//!   the app's file; a repeated bind writes the file again.
//! - unbind: remove the binding record, then remove the app's files if it has no other
//!   binding; a repeated unbind of a record already gone answers 410, and the startup
//!   [`Broker::repair`] removes any file left without a binding.
//!
//! Several brokers may share one S3 store: records are created conditionally and each
//! app's files are settled from a fresh listing. S3 deletes are unconditional, so an
//! unbind racing another broker's bind of the same app may remove the file of an app that
//! is bound again: the updater's next run writes the file of every bound app that has
//! none. On a local directory the broker and the updater take [`StoreLock`] around their
//! changes.

use crate::cc::{CcError, CloudController};
use crate::metrics::BrokerMetrics;
use crate::osb::{OsbError, Reply};
use crate::store_lock::StoreLock;
use gds_metrics::targets::records::{
    self, create_binding, create_instance, list_bindings, read_binding, read_instance, remove_binding,
    remove_instance, BindingRecord, Created, InstanceRecord, RecordId,
};
use gds_metrics::targets::{reconcile_app, AppGuid, BoundApp, Store, TargetsError};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// The id of the one service this broker offers; the platform sends it back in every
/// provision and bind request, and a request naming another service is refused.
pub const SERVICE_ID: &str = "0f0a5f3d-6b28-4d8e-9a4c-5f2b0b8c1a61";
/// The service's name in the marketplace (`cf create-service gds-prometheus …`).
pub const SERVICE_NAME: &str = "gds-prometheus";
/// The id of the service's one plan, checked like [`SERVICE_ID`].
pub const PLAN_ID: &str = "8d4d5bd4-8b0a-4f6e-9c0e-2a6c3b1f7e52";
/// The plan's name in the marketplace.
pub const PLAN_NAME: &str = "prometheus";

/// `GET /v2/catalog`.
pub fn catalog() -> Value {
    json!({
        "services": [{
            "id": SERVICE_ID,
            "name": SERVICE_NAME,
            "description": "Prometheus scrapes the bound app's /metrics on every instance",
            "bindable": true,
            "instances_retrievable": true,
            "bindings_retrievable": true,
            "plan_updateable": false,
            "tags": ["prometheus", "metrics"],
            "metadata": {"displayName": "GOV.UK PaaS Prometheus"},
            "plans": [{
                "id": PLAN_ID,
                "name": PLAN_NAME,
                "description": "Metrics of every bound app scraped by the shared Prometheus",
                "free": true,
                "bindable": true
            }]
        }]
    })
}

/// The broker: its store, its Cloud Controller client and its metrics.
pub struct Broker {
    /// Where instance and binding records and the apps' target files are kept: the
    /// broker's only state.
    pub store: Box<dyn Store>,
    /// Reads a bound app's name, space and routes when a binding writes its target file.
    pub cc: Arc<CloudController>,
    /// The broker's own request and store-failure metrics.
    pub metrics: Arc<BrokerMetrics>,
    /// Serialises this process's changes; other processes are kept out by conditional
    /// writes (S3) or the [`StoreLock`] (a local directory).
    changes: Mutex<()>,
    lock: StoreLock,
    runtime: tokio::runtime::Handle,
}

/// A provision or bind request's body, checked.
pub struct ProvisionRequest {
    /// The instance as it will be stored, compared with an existing record when the
    /// platform repeats the provision.
    pub record: InstanceRecord,
}

/// A bind request's body, checked.
pub struct BindRequest {
    /// The binding as it will be stored, compared with an existing record when the
    /// platform repeats the bind.
    pub record: BindingRecord,
}

impl Broker {
    /// A broker on `store`; `runtime` runs the Cloud Controller calls from the broker's
    /// blocking store operations.
    pub fn new(
        store: Box<dyn Store>,
        cc: Arc<CloudController>,
        metrics: Arc<BrokerMetrics>,
        runtime: tokio::runtime::Handle,
    ) -> Broker {
        let lock = StoreLock::for_store(&*store);
        Broker {
            store,
            cc,
            metrics,
            changes: Mutex::new(()),
            lock,
            runtime,
        }
    }

    /// Runs `change` with this process's and the store's lock held.
    fn exclusive<T>(&self, change: impl FnOnce() -> Result<T, OsbError>) -> Result<T, OsbError> {
        let _process = self
            .changes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let _store = self.lock.acquire().map_err(|e| self.store_failed(e))?;
        change()
    }

    /// `PUT /v2/service_instances/:id`: records the instance; 201 when new, 200 when the
    /// same request is repeated, 409 when the id exists with other attributes.
    pub fn provision(&self, id: &RecordId, request: ProvisionRequest) -> Result<Reply, OsbError> {
        self.exclusive(|| {
            match create_instance(&*self.store, id, &request.record).map_err(|e| self.store_failed(e))? {
                Created::New => Ok(Reply::new(201, json!({}))),
                Created::Existing(existing) if existing.same_request(&request.record) => {
                    Ok(Reply::new(200, json!({})))
                }
                Created::Existing(_) => Err(OsbError::conflict(format!(
                    "service instance {id} already exists with other attributes"
                ))),
            }
        })
    }

    /// `DELETE /v2/service_instances/:id`: unbinds whatever the instance still holds, then
    /// removes its record; 410 when it is already gone.
    pub fn deprovision(&self, id: &RecordId) -> Result<Reply, OsbError> {
        self.exclusive(|| {
            if read_instance(&*self.store, id)
                .map_err(|e| self.store_failed(e))?
                .is_none()
            {
                return Ok(Reply::gone());
            }
            // Whatever the instance still holds goes with it.
            for binding in list_bindings(&*self.store).map_err(|e| self.store_failed(e))? {
                let record =
                    read_binding(&*self.store, &binding.binding_id).map_err(|e| self.store_failed(e))?;
                if record.is_some_and(|r| &r.instance_id == id) {
                    self.unbind_recorded(&binding.binding_id, &binding.app_guid)?;
                }
            }
            remove_instance(&*self.store, id).map_err(|e| self.store_failed(e))?;
            Ok(Reply::new(200, json!({})))
        })
    }

    /// `GET /v2/service_instances/:id`: the instance's service, plan and parameters, or 404.
    pub fn get_instance(&self, id: &RecordId) -> Result<Reply, OsbError> {
        match read_instance(&*self.store, id).map_err(|e| self.store_failed(e))? {
            Some(record) => Ok(Reply::new(
                200,
                json!({"service_id": record.service_id, "plan_id": record.plan_id, "parameters": record.parameters}),
            )),
            None => Err(OsbError::not_found(format!(
                "service instance {id} does not exist"
            ))),
        }
    }

    /// `PUT /v2/service_instances/:id/service_bindings/:binding_id`: reads the app from
    /// the Cloud Controller, records the binding, then writes the app's target file.
    pub fn bind(
        &self,
        instance_id: &RecordId,
        binding_id: &RecordId,
        request: BindRequest,
    ) -> Result<Reply, OsbError> {
        self.exclusive(|| {
            let Some(instance) =
                read_instance(&*self.store, instance_id).map_err(|e| self.store_failed(e))?
            else {
                return Err(OsbError::not_found(format!(
                    "service instance {instance_id} does not exist"
                )));
            };
            if instance.plan_id != request.record.plan_id || instance.service_id != request.record.service_id
            {
                return Err(OsbError::bad_request(format!(
                    "service_id and plan_id must be those of service instance {instance_id}"
                )));
            }
            if let Some(existing) =
                read_binding(&*self.store, binding_id).map_err(|e| self.store_failed(e))?
            {
                return self.repeat_bind(binding_id, &existing, &request.record);
            }
            let app =
                self.app_from_cloud_controller(&request.record.app_guid, is_exporter(&request.record))?;
            match create_binding(&*self.store, binding_id, &request.record)
                .map_err(|e| self.store_failed(e))?
            {
                Created::New => {
                    self.settle(&app)?;
                    Ok(Reply::new(201, json!({"credentials": {}})))
                }
                Created::Existing(existing) => self.repeat_bind(binding_id, &existing, &request.record),
            }
        })
    }

    /// A bind for an id that exists: 200 (and the file written again, in case an earlier
    /// broker died before writing it) when the request is the same, 409 otherwise.
    fn repeat_bind(
        &self,
        id: &RecordId,
        existing: &BindingRecord,
        request: &BindingRecord,
    ) -> Result<Reply, OsbError> {
        if !existing.same_request(request) {
            return Err(OsbError::conflict(format!(
                "service binding {id} already exists with other attributes"
            )));
        }
        let app = self.app_from_cloud_controller(&existing.app_guid, is_exporter(existing))?;
        self.settle(&app)?;
        Ok(Reply::new(200, json!({"credentials": {}})))
    }

    /// `DELETE …/service_bindings/:binding_id`: removes the binding's record, then the
    /// app's files if no other binding keeps them; 410 when it is already gone.
    pub fn unbind(&self, instance_id: &RecordId, binding_id: &RecordId) -> Result<Reply, OsbError> {
        self.exclusive(
            || match read_binding(&*self.store, binding_id).map_err(|e| self.store_failed(e))? {
                Some(record) if &record.instance_id == instance_id => {
                    self.unbind_recorded(binding_id, &record.app_guid)?;
                    Ok(Reply::new(200, json!({})))
                }
                _ => Ok(Reply::gone()),
            },
        )
    }

    /// `GET …/service_bindings/:binding_id`: the binding's parameters (no credentials:
    /// Prometheus scrapes the app, the app is given nothing), or 404.
    pub fn get_binding(&self, instance_id: &RecordId, binding_id: &RecordId) -> Result<Reply, OsbError> {
        match read_binding(&*self.store, binding_id).map_err(|e| self.store_failed(e))? {
            Some(record) if &record.instance_id == instance_id => Ok(Reply::new(
                200,
                json!({"credentials": {}, "parameters": record.parameters}),
            )),
            _ => Err(OsbError::not_found(format!(
                "service binding {binding_id} of instance {instance_id} does not exist"
            ))),
        }
    }

    /// Removes a binding's record, then the app's files if no other binding keeps them.
    fn unbind_recorded(&self, binding_id: &RecordId, app: &AppGuid) -> Result<(), OsbError> {
        remove_binding(&*self.store, binding_id, app).map_err(|e| self.store_failed(e))?;
        let still_bound =
            records::bound_apps(&list_bindings(&*self.store).map_err(|e| self.store_failed(e))?);
        if !still_bound.contains(app) {
            self.settle(&BoundApp::Deleted { guid: app.clone() })?;
        }
        Ok(())
    }

    /// Writes (or removes) one app's files, leaving every other app's alone.
    fn settle(&self, app: &BoundApp) -> Result<(), OsbError> {
        reconcile_app(&*self.store, app).map_err(|e| self.store_failed(e))?;
        Ok(())
    }

    /// The app as its target file describes it, from the Cloud Controller.
    fn app_from_cloud_controller(&self, guid: &AppGuid, exporter: bool) -> Result<BoundApp, OsbError> {
        let guids = BTreeSet::from([guid.clone()]);
        let apps = self
            .runtime
            .block_on(self.cc.apps(&guids))
            .map_err(|e| self.cc_failed(e))?;
        let Some(state) = apps.get(guid) else {
            return Err(OsbError::unprocessable(
                "the Cloud Controller knows no such app; bind an existing app",
            ));
        };
        state.bound_app(exporter).map_err(OsbError::unprocessable)
    }

    /// At start: removes target files no binding keeps (a broker killed mid-unbind), and
    /// writes the files of bound apps that have none (a broker killed mid-bind). A Cloud
    /// Controller failure here is logged; the updater and the platform's retries finish.
    pub fn repair(&self) -> Result<Vec<String>, OsbError> {
        self.exclusive(|| {
            let listing = self.store.list().map_err(|e| self.store_failed(e))?;
            let bound = records::bound_apps(&list_bindings(&*self.store).map_err(|e| self.store_failed(e))?);
            let mut done = Vec::new();
            for orphan in listing.bound_guids().difference(&bound) {
                self.settle(&BoundApp::Deleted { guid: orphan.clone() })?;
                done.push("removed the files of an app no binding keeps".to_owned());
            }
            let missing: BTreeSet<AppGuid> = bound.difference(&listing.bound_guids()).cloned().collect();
            if missing.is_empty() {
                return Ok(done);
            }
            let apps = self
                .runtime
                .block_on(self.cc.apps(&missing))
                .map_err(|e| self.cc_failed(e))?;
            let exporters = exporters(&*self.store).map_err(|e| self.store_failed(e))?;
            for state in apps.values() {
                if let Ok(app) = state.bound_app(exporters.contains(&state.guid)) {
                    self.settle(&app)?;
                    done.push(format!(
                        "wrote the file of `{}`, bound but without one",
                        state.name
                    ));
                }
            }
            Ok(done)
        })
    }

    fn store_failed(&self, error: TargetsError) -> OsbError {
        self.metrics.store_error();
        OsbError::unavailable(format!("the target store failed: {error}; try again"))
    }

    fn cc_failed(&self, error: CcError) -> OsbError {
        self.metrics.cloud_controller_error();
        OsbError::bad_gateway(format!(
            "cannot read the app from the Cloud Controller: {error}; try again"
        ))
    }
}

/// Whether a binding asked for exporter targets (`cf bind-service -c '{"exporter": true}'`).
pub fn is_exporter(record: &BindingRecord) -> bool {
    record.parameters.get("exporter") == Some(&Value::Bool(true))
}

/// The apps with a binding that asked for exporter targets (reads every binding record).
pub fn exporters(store: &dyn Store) -> Result<BTreeSet<AppGuid>, TargetsError> {
    let mut found = BTreeSet::new();
    for binding in list_bindings(store)? {
        if records::read_listed_binding(store, &binding)?.is_some_and(|r| is_exporter(&r)) {
            found.insert(binding.app_guid);
        }
    }
    Ok(found)
}
