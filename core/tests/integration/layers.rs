//! The core's layers, kept true: no module of `core/src` imports a module of a higher
//! layer, and no modules import each other in a circle (see "Architecture" in
//! `core/README.md`).
//!
//! Imports are read as the project's pre-stop check reads them: every `crate::a::b` path
//! and every item of a `use crate::{..}` group, outside comments and outside the
//! `#[cfg(test)] mod tests` module; a path belongs to the longest module it names. A path
//! to an item the crate root re-exports (`crate::Opts`) belongs to the module it comes
//! from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first, by top-level module of `core/src`. A module may import its
/// own layer's modules and any lower layer's, never a higher one's.
const LAYERS: &[(&str, &[&str])] = &[
    ("foundation", &["error", "header", "liveness"]),
    ("model", &["model"]),
    ("formats", &["exposition", "negotiate", "traceparent"]),
    ("storage", &["storage"]),
    ("multiprocess", &["multiprocess"]),
    ("metrics", &["metrics", "exposed"]),
    ("registry", &["registry", "process"]),
    ("settings", &["config", "server_directory"]),
    ("http", &["auth", "request_metrics", "endpoint", "axum", "serve"]),
    ("service", &["targets"]),
];

type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn no_module_imports_a_higher_layer() {
    let modules = read_modules();
    let graph = module_graph(&modules);
    let layer_of = layer_index();
    let mut wrong = Vec::new();
    for (from, targets) in &graph {
        let from_top = top(from);
        let from_layer = *layer_of.get(from_top).unwrap_or_else(|| {
            panic!("core/src/{from_top} has no layer: add it to LAYERS in core/tests/integration/layers.rs")
        });
        for to in targets {
            let to_layer = layer_of[top(to)];
            if to_layer > from_layer {
                wrong.push(format!(
                    "{from} ({}) imports {to} ({})",
                    LAYERS[from_layer].0, LAYERS[to_layer].0
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports from a lower layer to a higher one:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_modules_import_each_other_in_a_circle() {
    let modules = read_modules();
    let graph = module_graph(&modules);
    let circles = circles_of(&graph);
    assert!(circles.is_empty(), "modules importing each other: {circles:?}");
    let mut tops = Graph::new();
    for (from, targets) in &graph {
        let entry = tops.entry(top(from).to_owned()).or_default();
        entry.extend(
            targets
                .iter()
                .map(|t| top(t).to_owned())
                .filter(|t| t != top(from)),
        );
    }
    let circles = circles_of(&tops);
    assert!(
        circles.is_empty(),
        "top-level modules importing each other: {circles:?}"
    );
}

#[test]
fn the_reading_finds_imports_and_skips_comments_and_tests() {
    let modules: BTreeSet<String> = ["a", "b", "b::c", "d", "e"].map(String::from).into();
    let text = "use crate::b::c::Thing;\nuse crate::{a, d::X};\n// crate::e\n#[cfg(test)]\nmod tests { use crate::e; }";
    let refs = references(text, &modules, &BTreeMap::new());
    assert_eq!(refs, ["a", "b::c", "d"].map(String::from).into());
}

/// Each module's path (`multiprocess::format`) and its text, without `bin/`.
fn read_modules() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect_files(&root, &mut files);
    files
        .into_iter()
        .map(|file| {
            let relative = file.strip_prefix(&root).unwrap().with_extension("");
            let mut parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            (parts.join("::"), std::fs::read_to_string(&file).unwrap())
        })
        .collect()
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "bin") {
                collect_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Which module each item the crate root re-exports comes from (`Opts` -> `model`).
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut items = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let (module, names) = rest.split_once("::").unwrap_or((rest, ""));
        let names = names.trim_start_matches('{').trim_end_matches('}');
        for name in names.split(',') {
            let name = name.trim().rsplit("::").next().unwrap_or("");
            let name = name.rsplit(" as ").next().unwrap_or(name).trim();
            if !name.is_empty() {
                items.insert(name.to_owned(), module.trim().to_owned());
            }
        }
    }
    items
}

fn module_graph(modules: &BTreeMap<String, String>) -> Graph {
    let names: BTreeSet<String> = modules.keys().filter(|m| *m != "lib").cloned().collect();
    let reexports = root_reexports(&modules["lib"]);
    names
        .iter()
        .map(|name| {
            let mut refs = references(&modules[name], &names, &reexports);
            refs.remove(name);
            (name.clone(), refs)
        })
        .collect()
}

/// The modules `text` imports.
fn references(
    text: &str,
    modules: &BTreeSet<String>,
    reexports: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    let code = without_comments(without_tests(text));
    let mut refs = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                refs.extend(resolve(item.trim(), modules, reexports));
            }
        } else {
            let len = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            refs.extend(resolve(&rest[..len], modules, reexports));
        }
    }
    refs
}

/// The longest module `path` names, or the module a root re-export comes from.
fn resolve(path: &str, modules: &BTreeSet<String>, reexports: &BTreeMap<String, String>) -> Option<String> {
    let segments: Vec<&str> = path
        .split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    (1..=segments.len())
        .rev()
        .map(|n| segments[..n].join("::"))
        .find(|candidate| modules.contains(candidate))
        .or_else(|| reexports.get(*segments.first()?).cloned())
}

fn without_tests(text: &str) -> &str {
    let mut from = 0;
    while let Some(at) = text[from..].find("#[cfg(test)]") {
        let start = from + at;
        let after = text[start + "#[cfg(test)]".len()..].trim_start();
        if after.starts_with("mod tests") {
            return &text[..start];
        }
        from = start + 1;
    }
    text
}

fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| line.find("//").map_or(line, |at| &line[..at]))
        .collect::<Vec<_>>()
        .join("\n")
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap()
}

fn layer_index() -> BTreeMap<&'static str, usize> {
    LAYERS
        .iter()
        .enumerate()
        .flat_map(|(i, (_, modules))| modules.iter().map(move |m| (*m, i)))
        .collect()
}

/// The strongly connected components of more than one module (Tarjan).
fn circles_of(graph: &Graph) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, v: &'g str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in self.graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    self.low.insert(v, self.low[v].min(self.low[w]));
                } else if self.stack.contains(&w) {
                    self.low.insert(v, self.low[v].min(self.index[w]));
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    component.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}
