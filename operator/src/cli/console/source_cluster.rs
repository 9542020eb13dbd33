//! Objects from a cluster, with the user's own kubeconfig identity: listed
//! and watched (one watch per `--namespace`, or one across all namespaces),
//! their Events read on demand, and saved by server-side apply of
//! `spec.rules` and `spec.responseVary` under the field manager
//! `bucketcors-console`. The console has no rights of its own: what the
//! kubeconfig may not do, the API server refuses, and the page says so.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bucketcors_engine::CorsConfig;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use serde::Serialize;
use tokio::sync::watch;

use super::view::{ObjectView, sorted};
use crate::crd::BucketCors;

/// The field manager of the console's applies.
pub const FIELD_MANAGER: &str = "bucketcors-console";

/// A cluster, as the kubeconfig reaches it.
#[derive(Clone)]
pub struct ClusterSource {
    client: Client,
    namespaces: Vec<String>,
    context: String,
}

/// One Event, as the page shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The reason.
    pub reason: String,
    /// The message.
    pub message: String,
    /// How many times it happened.
    pub count: Option<i32>,
    /// When it last happened.
    pub last_timestamp: Option<String>,
}

impl ClusterSource {
    /// Connects with the kubeconfig (`--context` or the current context).
    pub async fn connect(
        context: Option<&str>,
        namespaces: &[String],
    ) -> Result<ClusterSource, String> {
        let options = KubeConfigOptions {
            context: context.map(str::to_owned),
            ..KubeConfigOptions::default()
        };
        let kubeconfig =
            Kubeconfig::read().map_err(|e| format!("cannot read the kubeconfig: {e}"))?;
        let current = context
            .map(str::to_owned)
            .or_else(|| kubeconfig.current_context.clone())
            .unwrap_or_else(|| "(default)".into());
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| format!("cannot use the kubeconfig: {e}"))?;
        let client = Client::try_from(config).map_err(|e| format!("cannot build a client: {e}"))?;
        Ok(ClusterSource {
            client,
            namespaces: namespaces.to_vec(),
            context: current,
        })
    }

    /// The context and namespaces, for the page's header.
    pub fn describe(&self) -> String {
        if self.namespaces.is_empty() {
            format!("context {}, all namespaces", self.context)
        } else {
            format!(
                "context {}, namespaces {}",
                self.context,
                self.namespaces.join(", ")
            )
        }
    }

    fn apis(&self) -> Vec<Api<BucketCors>> {
        if self.namespaces.is_empty() {
            vec![Api::all(self.client.clone())]
        } else {
            self.namespaces
                .iter()
                .map(|ns| Api::namespaced(self.client.clone(), ns))
                .collect()
        }
    }

    /// Lists every object now (an error when the identity may not list).
    pub async fn read(&self) -> Result<Vec<ObjectView>, String> {
        let mut views = Vec::new();
        for api in self.apis() {
            let list = api
                .list(&ListParams::default())
                .await
                .map_err(|e| format!("cannot list BucketCors: {e}"))?;
            views.extend(list.items.iter().map(|o| ObjectView::new(o, None)));
        }
        Ok(sorted(views))
    }

    /// Watches every namespace asked for and publishes the whole list after
    /// each change.
    pub async fn watch(self, tx: watch::Sender<Arc<Vec<ObjectView>>>) {
        let known: Arc<Mutex<BTreeMap<(String, String), ObjectView>>> = Arc::default();
        {
            let mut map = known.lock().expect("not poisoned");
            for v in tx.borrow().iter() {
                map.insert((v.namespace.clone(), v.name.clone()), v.clone());
            }
        }
        // Each watch is tagged with its scope (its namespace, or `None` for
        // all), because each relists on its own: a relist may drop only the
        // objects of its own scope that it no longer lists.
        let scopes: Vec<Option<String>> = if self.namespaces.is_empty() {
            vec![None]
        } else {
            self.namespaces.iter().cloned().map(Some).collect()
        };
        let streams = self.apis().into_iter().zip(scopes).map(|(api, scope)| {
            watcher(api, watcher::Config::default())
                .default_backoff()
                .map(move |event| (scope.clone(), event))
                .boxed()
        });
        let mut all = futures::stream::select_all(streams);
        // Per scope, the objects seen since its last (re)list began.
        let mut relisted: BTreeMap<Option<String>, Vec<(String, String)>> = BTreeMap::new();
        while let Some((scope, event)) = all.next().await {
            let mut map = known.lock().expect("not poisoned");
            match event {
                Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => {
                    let v = ObjectView::new(&o, None);
                    relisted
                        .entry(scope)
                        .or_default()
                        .push((v.namespace.clone(), v.name.clone()));
                    map.insert((v.namespace.clone(), v.name.clone()), v);
                }
                Ok(watcher::Event::Delete(o)) => {
                    map.remove(&(o.namespace().unwrap_or_default(), o.name_any()));
                }
                Ok(watcher::Event::Init) => {
                    relisted.entry(scope).or_default().clear();
                }
                Ok(watcher::Event::InitDone) => {
                    let seen = relisted.entry(scope.clone()).or_default();
                    forget_unlisted(&mut map, &scope, seen);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "BucketCors watch failed; retrying");
                    continue;
                }
            }
            let now = sorted(map.values().cloned().collect());
            drop(map);
            tx.send_if_modified(|current| {
                if **current == now {
                    false
                } else {
                    *current = Arc::new(now);
                    true
                }
            });
        }
    }

    /// The object's Events, newest last.
    pub async fn events(&self, namespace: &str, name: &str) -> Result<Vec<EventView>, String> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), namespace);
        let params = ListParams::default().fields(&format!(
            "involvedObject.kind=BucketCors,involvedObject.name={name}"
        ));
        let list = api
            .list(&params)
            .await
            .map_err(|e| format!("cannot list Events: {e}"))?;
        let mut events: Vec<EventView> = list
            .items
            .into_iter()
            .map(|e| EventView {
                type_: e.type_.unwrap_or_default(),
                reason: e.reason.unwrap_or_default(),
                message: e.message.unwrap_or_default(),
                count: e.count,
                last_timestamp: e
                    .last_timestamp
                    .map(|t| t.0.to_string())
                    .or_else(|| e.event_time.map(|t| t.0.to_string())),
            })
            .collect();
        events.sort_by(|a, b| a.last_timestamp.cmp(&b.last_timestamp));
        Ok(events)
    }

    /// Server-side apply of the rules (and `responseVary` for OSS), forced:
    /// saving in the console is the user's decision to own those fields.
    pub async fn save(
        &self,
        namespace: &str,
        name: &str,
        oss: bool,
        config: &CorsConfig,
    ) -> Result<String, String> {
        let api: Api<BucketCors> = Api::namespaced(self.client.clone(), namespace);
        let mut spec = serde_json::json!({ "rules": config.rules });
        if oss {
            spec["responseVary"] = config.response_vary.into();
        }
        let patch = serde_json::json!({
            "apiVersion": "bucketcors.dev/v1alpha1",
            "kind": "BucketCors",
            "metadata": { "name": name, "namespace": namespace },
            "spec": spec,
        });
        let applied = api
            .patch(
                name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&patch),
            )
            .await
            .map_err(|e| format!("the API server refused the apply: {e}"))?;
        tracing::info!(namespace, name, rules = config.rules.len(), "rules applied");
        Ok(format!(
            "applied to {namespace}/{name} (generation {})",
            applied.metadata.generation.unwrap_or_default()
        ))
    }
}

/// After `scope`'s relist (`None`: every namespace): forgets the objects
/// of that scope it did not list (deleted while the watch was down), and
/// keeps every other scope's.
fn forget_unlisted<V>(
    known: &mut BTreeMap<(String, String), V>,
    scope: &Option<String>,
    listed: &[(String, String)],
) {
    known.retain(|key, _| scope.as_deref().is_some_and(|s| s != key.0) || listed.contains(key));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ns: &str, name: &str) -> (String, String) {
        (ns.to_owned(), name.to_owned())
    }

    #[test]
    fn a_relist_forgets_only_its_own_scopes_deleted_objects() {
        let mut known: BTreeMap<_, ()> = [key("a", "x"), key("a", "gone"), key("b", "y")]
            .into_iter()
            .map(|k| (k, ()))
            .collect();
        forget_unlisted(&mut known, &Some("a".into()), &[key("a", "x")]);
        assert_eq!(
            known.keys().cloned().collect::<Vec<_>>(),
            vec![key("a", "x"), key("b", "y")]
        );
        forget_unlisted(&mut known, &None, &[key("b", "y")]);
        assert_eq!(
            known.keys().cloned().collect::<Vec<_>>(),
            vec![key("b", "y")]
        );
    }
}
