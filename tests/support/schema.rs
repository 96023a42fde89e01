//! A small JSON Schema check, enough for `assets/status.schema.json`:
//! `$ref` (to `#/$defs/…`), `type`, `const`, `enum`, `required`,
//! `properties`, `additionalProperties`, `items` and `minimum`. Other
//! keywords (`format`, `description`, …) are not checked.

use serde_json::Value;

/// Every way `instance` breaks `schema`, as `path: what` lines.
pub fn violations(schema: &Value, instance: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(schema, schema, instance, "$", &mut out);
    out
}

/// Reads the schema and the example shipped in `assets/`.
pub fn shipped(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets")
        .join(name);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Panics with every violation of the shipped status schema.
pub fn assert_valid_status(instance: &Value) {
    let schema = shipped("status.schema.json");
    let v = violations(&schema, instance);
    assert!(
        v.is_empty(),
        "not a valid honban.status/v1 document:\n{}\n{instance:#}",
        v.join("\n")
    );
}

fn check(root: &Value, schema: &Value, x: &Value, path: &str, out: &mut Vec<String>) {
    let Some(s) = schema.as_object() else {
        if schema == &Value::Bool(false) {
            out.push(format!("{path}: not allowed"));
        }
        return;
    };
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let Some(target) = r
            .strip_prefix("#/")
            .and_then(|p| p.split('/').try_fold(root, |v, k| v.get(k)))
        else {
            out.push(format!("{path}: unresolvable $ref {r}"));
            return;
        };
        check(root, target, x, path, out);
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.iter().any(|t| is_type(x, t)) {
            out.push(format!("{path}: {x} is not of type {types:?}"));
            return;
        }
    }
    if let Some(c) = s.get("const")
        && c != x
    {
        out.push(format!("{path}: {x} is not {c}"));
    }
    if let Some(Value::Array(options)) = s.get("enum")
        && !options.contains(x)
    {
        out.push(format!("{path}: {x} is not one of {options:?}"));
    }
    if let (Some(min), Some(n)) = (s.get("minimum").and_then(Value::as_f64), x.as_f64())
        && n < min
    {
        out.push(format!("{path}: {n} is below {min}"));
    }
    if let Some(obj) = x.as_object() {
        for key in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !obj.contains_key(key) {
                out.push(format!("{path}: `{key}` is required"));
            }
        }
        let props = s.get("properties").and_then(Value::as_object);
        for (key, value) in obj {
            let sub = format!("{path}.{key}");
            match props.and_then(|p| p.get(key)) {
                Some(p) => check(root, p, value, &sub, out),
                None => {
                    if let Some(extra) = s.get("additionalProperties") {
                        check(root, extra, value, &sub, out);
                    }
                }
            }
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), x.as_array()) {
        for (i, item) in arr.iter().enumerate() {
            check(root, items, item, &format!("{path}[{i}]"), out);
        }
    }
}

fn is_type(x: &Value, t: &str) -> bool {
    match t {
        "object" => x.is_object(),
        "array" => x.is_array(),
        "string" => x.is_string(),
        "integer" => x.is_i64() || x.is_u64(),
        "number" => x.is_number(),
        "boolean" => x.is_boolean(),
        "null" => x.is_null(),
        _ => false,
    }
}
