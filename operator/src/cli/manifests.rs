//! Reading BucketCors manifests for `bucketcors apply`: files and
//! directories, several YAML documents per file, each checked as the API
//! server would check it before anything is sent.

use crate::crd::{BucketCors, validate_manifest};
use std::path::{Path, PathBuf};

/// One BucketCors document, ready to apply.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// `file` or `file#N` (N counts documents from 1), for messages.
    pub source: String,
    /// The resource.
    pub object: BucketCors,
}

impl Manifest {
    /// `namespace/name`, or `name`.
    pub fn name(&self) -> String {
        let name = self
            .object
            .metadata
            .name
            .clone()
            .unwrap_or_else(|| "<unnamed>".into());
        match &self.object.metadata.namespace {
            Some(ns) => format!("{ns}/{name}"),
            None => name,
        }
    }
}

/// A document that cannot be applied; nothing is sent for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// `file` or `file#N`.
    pub source: String,
    /// Every problem, one per line, each naming the field.
    pub message: String,
}

/// What [`load`] found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Manifests to apply, in file and document order.
    pub manifests: Vec<Manifest>,
    /// Documents refused.
    pub invalid: Vec<Invalid>,
    /// Documents of other kinds, ignored (a directory may hold Secrets).
    pub skipped: Vec<String>,
}

/// Reads every path: a file, or a directory whose `*.yaml`, `*.yml` and
/// `*.json` files are read in name order (not recursively, as `kubectl -f`).
///
/// Reading and splitting documents is sequential; the per-document checks
/// (schema and CEL, which compile their patterns) run on every core, since
/// a thousand manifests would otherwise spend most of an apply here.
pub fn load(paths: &[PathBuf]) -> Loaded {
    let mut loaded = Loaded::default();
    let mut documents: Vec<(String, serde_norway::Value)> = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files: Vec<PathBuf> = match std::fs::read_dir(path) {
                Ok(entries) => entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.is_file()
                            && p.extension()
                                .and_then(|e| e.to_str())
                                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
                    })
                    .collect(),
                Err(e) => {
                    loaded.invalid.push(Invalid {
                        source: path.display().to_string(),
                        message: format!("cannot read directory: {e}"),
                    });
                    continue;
                }
            };
            files.sort();
            for file in files {
                split_file(&file, &mut documents, &mut loaded);
            }
        } else {
            split_file(path, &mut documents, &mut loaded);
        }
    }

    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(documents.len().max(1));
    let chunk = documents.len().div_ceil(threads).max(1);
    let checked: Vec<Vec<Checked>> = std::thread::scope(|scope| {
        let workers: Vec<_> = documents
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(source, doc)| (source.clone(), check(doc.clone())))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("manifest checks do not panic"))
            .collect()
    });
    for (source, result) in checked.into_iter().flatten() {
        match result {
            Ok(Some(object)) => loaded.manifests.push(Manifest { source, object }),
            Ok(None) => loaded.skipped.push(source),
            Err(message) => loaded.invalid.push(Invalid { source, message }),
        }
    }
    loaded
}

/// Reads one file and splits it into its non-empty documents.
fn split_file(
    path: &Path,
    documents: &mut Vec<(String, serde_norway::Value)>,
    loaded: &mut Loaded,
) {
    let name = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            loaded.invalid.push(Invalid {
                source: name,
                message: format!("cannot read: {e}"),
            });
            return;
        }
    };
    let mut values = Vec::new();
    for (index, document) in serde_norway::Deserializer::from_str(&text).enumerate() {
        match <serde_norway::Value as serde::Deserialize>::deserialize(document) {
            Ok(value) => values.push(value),
            Err(e) => {
                loaded.invalid.push(Invalid {
                    source: format!("{name}#{}", index + 1),
                    message: format!("not YAML: {e}"),
                });
                return;
            }
        }
    }
    let several = values.iter().filter(|d| !d.is_null()).count() > 1;
    for (index, value) in values.into_iter().enumerate() {
        if value.is_null() {
            continue;
        }
        let source = if several {
            format!("{name}#{}", index + 1)
        } else {
            name.clone()
        };
        documents.push((source, value));
    }
}

/// One document's verdict: the resource, `None` for other kinds, or the problems.
type Checked = (String, Result<Option<BucketCors>, String>);

/// `Ok(None)` for other kinds; the API server's checks otherwise.
fn check(document: serde_norway::Value) -> Result<Option<BucketCors>, String> {
    let json: serde_json::Value = serde_json::to_value(&document)
        .map_err(|e| format!("cannot be represented as JSON: {e}"))?;
    if json.get("kind").and_then(|k| k.as_str()) != Some("BucketCors") {
        return Ok(None);
    }
    let errors = validate_manifest(&json);
    if !errors.is_empty() {
        return Err(errors.join("\n"));
    }
    serde_json::from_value(json)
        .map(Some)
        .map_err(|e| format!("not a BucketCors: {e}"))
}
