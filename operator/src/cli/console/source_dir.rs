//! Objects from manifests in a directory (`--dir`), no cluster: read as
//! `bucketcors apply` reads them, re-read every second so that edits made
//! elsewhere show up, and saved by rewriting the one document changed.
//!
//! Saving re-checks the whole document as the API server would
//! (`validate_manifest`) before writing, and changes only the lines of
//! `spec.rules` and `spec.responseVary` ([`super::splice`]): comments and
//! the other documents stay as written. When the layout cannot be edited
//! in place, the file is rewritten from its parsed value and the answer
//! says its comments were lost.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bucketcors_engine::CorsConfig;
use tokio::sync::watch;

use super::super::manifests;
use super::view::{ObjectView, sorted};
use crate::crd::validate_manifest;

/// How often the directory is read again.
const POLL: Duration = Duration::from_secs(1);

/// The manifests under one directory.
#[derive(Debug, Clone)]
pub struct DirSource {
    dir: PathBuf,
}

impl DirSource {
    /// The directory, which must exist.
    pub fn new(dir: &Path) -> Result<DirSource, String> {
        if !dir.is_dir() {
            return Err(format!("--dir {}: not a directory", dir.display()));
        }
        Ok(DirSource {
            dir: dir.to_owned(),
        })
    }

    /// What `--dir` names, for the page's header.
    pub fn describe(&self) -> String {
        format!("directory {}", self.dir.display())
    }

    /// Reads every manifest now.
    pub fn read(&self) -> Vec<ObjectView> {
        let loaded = manifests::load(std::slice::from_ref(&self.dir));
        for invalid in &loaded.invalid {
            tracing::warn!(source = %invalid.source, problem = %invalid.message, "manifest not shown");
        }
        sorted(
            loaded
                .manifests
                .iter()
                .map(|m| ObjectView::new(&m.object, Some(m.source.clone())))
                .collect(),
        )
    }

    /// Re-reads the directory every second and publishes changes.
    pub async fn watch(self, tx: watch::Sender<Arc<Vec<ObjectView>>>) {
        loop {
            tokio::time::sleep(POLL).await;
            let me = self.clone();
            let Ok(now) = tokio::task::spawn_blocking(move || me.read()).await else {
                continue;
            };
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

    /// Writes `config` into the document `source` (`file` or `file#N`) names.
    pub fn save(&self, source: &str, config: &CorsConfig) -> Result<String, String> {
        let (file, index) = match source.rsplit_once('#') {
            Some((file, n)) => (
                file,
                n.parse::<usize>().map_err(|e| format!("{source}: {e}"))?,
            ),
            None => (source, 0),
        };
        let path = Path::new(file);
        if !path.starts_with(&self.dir) {
            return Err(format!("{file} is not under --dir {}", self.dir.display()));
        }
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("{file}: cannot read: {e}"))?;
        let mut documents = parse_documents(&text).map_err(|e| format!("{file}: not YAML: {e}"))?;
        // `file#N` counts documents from 1, empty ones included; a single
        // document carries no number.
        let position = if index == 0 {
            documents.iter().position(|d| !d.is_null())
        } else {
            Some(index - 1)
        };
        let position =
            position.ok_or_else(|| format!("{source}: the document is no longer there"))?;
        let target = documents
            .get_mut(position)
            .ok_or_else(|| format!("{source}: the document is no longer there"))?;
        let spec = target
            .get_mut("spec")
            .and_then(|s| s.as_mapping_mut())
            .ok_or_else(|| format!("{source}: the document has no spec"))?;
        let rules = serde_norway::to_value(&config.rules).map_err(|e| e.to_string())?;
        spec.insert("rules".into(), rules);
        if config.response_vary {
            spec.insert("responseVary".into(), true.into());
        } else {
            spec.remove("responseVary");
        }
        let json = serde_json::to_value(&*target).map_err(|e| e.to_string())?;
        let problems = validate_manifest(&json);
        if !problems.is_empty() {
            return Err(format!(
                "the API server would refuse it: {}",
                problems.join("; ")
            ));
        }
        // Only the rules' lines change when that can be done and checked:
        // the spliced text must parse to exactly the documents meant.
        let rules_yaml = serde_norway::to_string(&config.rules).map_err(|e| e.to_string())?;
        let spliced = super::splice::splice(&text, position, &rules_yaml, config.response_vary)
            .filter(|t| parse_documents(t).is_ok_and(|parsed| parsed == documents));
        let kept = spliced.is_some();
        let out = match spliced {
            Some(text) => text,
            None => {
                let mut out = String::new();
                for (i, document) in documents.iter().enumerate() {
                    if i > 0 {
                        out.push_str("---\n");
                    }
                    if !document.is_null() {
                        out.push_str(
                            &serde_norway::to_string(document).map_err(|e| e.to_string())?,
                        );
                    }
                }
                out
            }
        };
        let temporary = path.with_extension("console-tmp");
        std::fs::write(&temporary, out).map_err(|e| format!("{file}: cannot write: {e}"))?;
        std::fs::rename(&temporary, path).map_err(|e| format!("{file}: cannot write: {e}"))?;
        tracing::info!(
            file,
            rules = config.rules.len(),
            comments_kept = kept,
            "manifest saved"
        );
        Ok(if kept {
            format!("written to {file}")
        } else {
            format!(
                "written to {file}, rewritten whole (its layout could not be edited in place, so \
                 its YAML comments were not kept)"
            )
        })
    }
}

/// Every document of a YAML stream, empty ones included (as null).
fn parse_documents(text: &str) -> Result<Vec<serde_norway::Value>, serde_norway::Error> {
    serde_norway::Deserializer::from_str(text)
        .map(<serde_norway::Value as serde::Deserialize>::deserialize)
        .collect()
}
