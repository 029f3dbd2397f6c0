//! The JSON functions: JSON_EXTRACT (and the `->`/`->>` operators the
//! binder turns into it), constructors, searches, modifiers and merges, with
//! MySQL 8's NULL handling and errors.
//!
//! Invariants:
//! 1. A JSON-typed argument (`Value::Json`) is used as it is; a string in a
//!    document position is parsed as JSON text (error 3141 names the
//!    argument), a string in a value position becomes a JSON string.
//! 2. A NULL document or path gives NULL unless MySQL says otherwise
//!    (JSON_VALID, JSON_QUOTE, JSON_ARRAY/OBJECT values become `null`).
//! 3. Functions that change documents work on the tree and re-encode;
//!    JSON_EXTRACT with one wildcard-free path seeks in the stored bytes.
//!
//! Not here: the JSON aggregates and JSON_TABLE (Not yet).

use mizzle_types::error::{JsonErrorAt, JsonErrorSite};
use mizzle_types::json::{self, path, Json, JsonError, JsonPath, JsonRef, PathLeg};
use mizzle_types::{SqlType, TypeError, Value};

use super::{FuncError, ScalarFunc};

type R = Result<Value, FuncError>;

fn jerr(error: JsonError, at: JsonErrorSite) -> FuncError {
    FuncError::Type(TypeError::Json(JsonErrorAt { error, at }))
}

fn site(at: JsonErrorSite) -> FuncError {
    FuncError::Type(TypeError::Json(JsonErrorAt::site(at)))
}

/// The lower-case name MySQL prints in JSON error messages.
fn fname(f: ScalarFunc) -> &'static str {
    use ScalarFunc as F;
    match f {
        F::JsonExtract => "json_extract",
        F::JsonUnquote => "json_unquote",
        F::JsonQuote => "json_quote",
        F::JsonObject => "json_object",
        F::JsonArray => "json_array",
        F::JsonContains => "json_contains",
        F::JsonContainsPath => "json_contains_path",
        F::JsonSet => "json_set",
        F::JsonInsert => "json_insert",
        F::JsonReplace => "json_replace",
        F::JsonRemove => "json_remove",
        F::JsonArrayAppend => "json_array_append",
        F::JsonArrayInsert => "json_array_insert",
        F::JsonMergePatch => "json_merge_patch",
        F::JsonMergePreserve => "json_merge_preserve",
        F::JsonKeys => "json_keys",
        F::JsonLength => "json_length",
        F::JsonDepth => "json_depth",
        F::JsonType => "json_type",
        F::JsonValid => "json_valid",
        F::JsonSearch => "json_search",
        F::JsonPretty => "json_pretty",
        F::JsonOverlaps => "json_overlaps",
        F::JsonMemberOf => "member of",
        _ => "json",
    }
}

/// The result type of a JSON function.
pub(super) fn return_type(f: ScalarFunc) -> SqlType {
    use ScalarFunc as F;
    match f {
        F::JsonUnquote | F::JsonQuote | F::JsonPretty => SqlType::LONGTEXT,
        F::JsonType => SqlType::Varchar(16),
        F::JsonContains
        | F::JsonContainsPath
        | F::JsonLength
        | F::JsonDepth
        | F::JsonValid
        | F::JsonOverlaps
        | F::JsonMemberOf => SqlType::BIGINT,
        _ => SqlType::Json,
    }
}

/// A document argument (invariant 1); `None` for NULL.
pub(crate) fn doc(v: &Value, arg: usize, f: ScalarFunc) -> Result<Option<Json>, FuncError> {
    match v {
        Value::Null => Ok(None),
        Value::Json(b) => {
            json::binary::decode(b).map(Some).map_err(|e| jerr(e, JsonErrorSite::Arg { arg, func: fname(f) }))
        }
        Value::Text(_) | Value::Bytes(_) => {
            json::from_value(v).map_err(|e| jerr(e, JsonErrorSite::Arg { arg, func: fname(f) }))
        }
        _ => Err(site(JsonErrorSite::NotJson { arg, func: fname(f) })),
    }
}

fn path_arg(v: &Value, arg: usize, f: ScalarFunc) -> Result<Option<JsonPath>, FuncError> {
    match v {
        Value::Null => Ok(None),
        other => JsonPath::parse(&other.to_text_lossy())
            .map(Some)
            .map_err(|e| jerr(e, JsonErrorSite::Arg { arg, func: fname(f) })),
    }
}

fn single_path(v: &Value, arg: usize, f: ScalarFunc) -> Result<Option<JsonPath>, FuncError> {
    let p = path_arg(v, arg, f)?;
    if p.as_ref().is_some_and(JsonPath::has_wildcard) {
        return Err(site(JsonErrorSite::Wildcard));
    }
    Ok(p)
}

/// A value argument: JSON as it is, other SQL values converted, NULL as
/// JSON `null`.
fn val(v: &Value) -> Json {
    v.to_json().unwrap_or(Json::Null)
}

fn out(j: &Json) -> Value {
    Value::json(j)
}

fn bool_val(b: bool) -> Value {
    Value::Int(b as i64)
}

/// Evaluates a JSON function (the binder has checked the argument count).
pub(super) fn eval(f: ScalarFunc, args: &[Value]) -> R {
    use ScalarFunc as F;
    let null = Value::Null;
    let a = |i: usize| args.get(i).unwrap_or(&null);
    match f {
        F::JsonExtract => extract(args),
        F::JsonUnquote => unquote(a(0)),
        F::JsonQuote => Ok(match a(0) {
            Value::Null => Value::Null,
            v => {
                let mut s = String::new();
                json::text::write_string(&v.to_text_lossy(), &mut s);
                Value::Text(s.into())
            }
        }),
        F::JsonObject => {
            if !args.len().is_multiple_of(2) {
                return Err(FuncError::WrongParamCount("JSON_OBJECT"));
            }
            let mut members = Vec::with_capacity(args.len() / 2);
            for kv in args.chunks(2) {
                let (k, v) = (kv.first().unwrap_or(&null), kv.get(1).unwrap_or(&null));
                if k.is_null() {
                    return Err(site(JsonErrorSite::NullKey));
                }
                members.push((k.to_text_lossy(), val(v)));
            }
            Ok(out(&Json::object(members)))
        }
        F::JsonArray => Ok(out(&Json::Array(args.iter().map(val).collect()))),
        F::JsonContains => {
            let (Some(t), Some(c)) = (doc(a(0), 1, f)?, doc(a(1), 2, f)?) else {
                return Ok(Value::Null);
            };
            let target = match args.get(2) {
                None => t,
                Some(p) => {
                    let Some(p) = single_path(p, 3, f)? else { return Ok(Value::Null) };
                    match path::eval(&t, &p)
                        .map_err(|e| jerr(e, JsonErrorSite::Arg { arg: 1, func: fname(f) }))?
                        .first()
                    {
                        Some(v) => (*v).clone(),
                        None => return Ok(Value::Null),
                    }
                }
            };
            Ok(bool_val(contains(&target, &c)))
        }
        F::JsonContainsPath => {
            let Some(d) = doc(a(0), 1, f)? else { return Ok(Value::Null) };
            let all = match a(1) {
                Value::Null => return Ok(Value::Null),
                v => match v.to_text_lossy().to_ascii_lowercase().as_str() {
                    "one" => false,
                    "all" => true,
                    _ => return Err(site(JsonErrorSite::OneOrAll { func: fname(f) })),
                },
            };
            let mut found = Vec::new();
            for (i, p) in args.iter().enumerate().skip(2) {
                let Some(p) = path_arg(p, i + 1, f)? else { return Ok(Value::Null) };
                found.push(
                    !path::eval(&d, &p).map_err(|e| jerr(e, JsonErrorSite::Arg { arg: 1, func: fname(f) }))?.is_empty(),
                );
            }
            Ok(bool_val(if all { found.iter().all(|x| *x) } else { found.iter().any(|x| *x) }))
        }
        F::JsonSet | F::JsonInsert | F::JsonReplace => modify(f, args),
        F::JsonArrayAppend | F::JsonArrayInsert => array_add(f, args),
        F::JsonRemove => remove(args),
        F::JsonMergePreserve | F::JsonMergePatch => {
            let mut acc: Option<Json> = None;
            let mut saw_null = false;
            for (i, v) in args.iter().enumerate() {
                let d = doc(v, i + 1, f)?;
                match (f, d) {
                    (_, None) => saw_null = true,
                    (F::JsonMergePatch, Some(d)) => acc = Some(merge_patch(acc.unwrap_or(Json::Null), d)),
                    (_, Some(d)) => {
                        acc = Some(match acc {
                            None => d,
                            Some(x) => merge_preserve(x, d),
                        })
                    }
                }
            }
            Ok(match acc {
                Some(j) if !saw_null => out(&j),
                _ => Value::Null,
            })
        }
        F::JsonKeys => {
            let Some(d) = at_path(f, args)? else { return Ok(Value::Null) };
            Ok(match d {
                Json::Object(m) => out(&Json::Array(m.into_iter().map(|(k, _)| Json::String(k)).collect())),
                _ => Value::Null,
            })
        }
        F::JsonLength => {
            let Some(d) = at_path(f, args)? else { return Ok(Value::Null) };
            Ok(Value::Int(match d {
                Json::Array(a) => a.len() as i64,
                Json::Object(o) => o.len() as i64,
                _ => 1,
            }))
        }
        F::JsonDepth => Ok(match doc(a(0), 1, f)? {
            Some(d) => Value::Int(d.depth() as i64),
            None => Value::Null,
        }),
        F::JsonType => Ok(match doc(a(0), 1, f)? {
            Some(d) => Value::text(d.type_name()),
            None => Value::Null,
        }),
        F::JsonValid => Ok(match a(0) {
            Value::Null => Value::Null,
            Value::Json(_) => bool_val(true),
            v @ (Value::Text(_) | Value::Bytes(_)) => bool_val(json::from_value(v).is_ok()),
            _ => bool_val(false),
        }),
        F::JsonSearch => search(f, args),
        F::JsonPretty => Ok(match doc(a(0), 1, f)? {
            Some(d) => {
                let mut s = String::new();
                json::text::write_pretty(&d, 0, &mut s);
                Value::Text(s.into())
            }
            None => Value::Null,
        }),
        F::JsonOverlaps => {
            let (Some(x), Some(y)) = (doc(a(0), 1, f)?, doc(a(1), 2, f)?) else {
                return Ok(Value::Null);
            };
            Ok(bool_val(overlaps(&x, &y)))
        }
        F::JsonMemberOf => {
            if a(0).is_null() {
                return Ok(Value::Null);
            }
            let Some(arr) = doc(a(1), 2, f)? else { return Ok(Value::Null) };
            let v = val(a(0));
            Ok(bool_val(match &arr {
                Json::Array(items) => items.iter().any(|e| json::compare(e, &v).is_eq()),
                other => json::compare(other, &v).is_eq(),
            }))
        }
        _ => Err(FuncError::WrongArguments(f.name())),
    }
}

/// The document, or the value at the optional wildcard-free path argument.
fn at_path(f: ScalarFunc, args: &[Value]) -> Result<Option<Json>, FuncError> {
    let null = Value::Null;
    let Some(d) = doc(args.first().unwrap_or(&null), 1, f)? else { return Ok(None) };
    let Some(p) = args.get(1) else { return Ok(Some(d)) };
    let Some(p) = single_path(p, 2, f)? else { return Ok(None) };
    let found = path::eval(&d, &p).map_err(|e| jerr(e, JsonErrorSite::Arg { arg: 1, func: fname(f) }))?;
    Ok(found.first().map(|v| (*v).clone()))
}

fn extract(args: &[Value]) -> R {
    let f = ScalarFunc::JsonExtract;
    let null = Value::Null;
    let d = args.first().unwrap_or(&null);
    let mut paths = Vec::with_capacity(args.len().saturating_sub(1));
    for (i, p) in args.iter().enumerate().skip(1) {
        match path_arg(p, i + 1, f)? {
            Some(p) => paths.push(p),
            None => return Ok(Value::Null),
        }
    }
    let corrupt = |e| jerr(e, JsonErrorSite::Arg { arg: 1, func: fname(f) });
    // Invariant 3: one wildcard-free path over a stored document seeks.
    if let (Value::Json(bytes), [p]) = (d, paths.as_slice()) {
        if !p.has_wildcard() {
            let root = JsonRef::from_doc(bytes).map_err(corrupt)?;
            return Ok(match path::eval(root, p).map_err(corrupt)?.first() {
                Some(r) => {
                    // Check the part we return (it may be damaged).
                    r.to_json().map_err(corrupt)?;
                    Value::Json(r.to_doc().into())
                }
                None => Value::Null,
            });
        }
    }
    let Some(d) = doc(d, 1, f)? else { return Ok(Value::Null) };
    let mut found: Vec<Json> = Vec::new();
    for p in &paths {
        found.extend(path::eval(&d, p).map_err(corrupt)?.into_iter().cloned());
    }
    let wrap = paths.len() > 1 || paths.iter().any(JsonPath::has_wildcard);
    Ok(match (wrap, found.len()) {
        (_, 0) => Value::Null,
        (false, _) => found.first().map(out).unwrap_or(Value::Null),
        (true, _) => out(&Json::Array(found)),
    })
}

fn unquote(v: &Value) -> R {
    Ok(match v {
        Value::Null => Value::Null,
        Value::Json(_) => match v.to_json() {
            Some(Json::String(s)) => Value::Text(s.into()),
            Some(j) => Value::Text(j.to_text().into()),
            None => return Err(jerr(JsonError::Corrupt, JsonErrorSite::Arg { arg: 1, func: "json_unquote" })),
        },
        other => {
            let s = other.to_text_lossy();
            if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
                match json::text::parse(&s) {
                    Ok(Json::String(u)) => Value::Text(u.into()),
                    Ok(_) => Value::Text(s.into()),
                    Err(e) => return Err(jerr(e, JsonErrorSite::Arg { arg: 1, func: "json_unquote" })),
                }
            } else {
                Value::Text(s.into())
            }
        }
    })
}

/// MySQL's containment (JSON_CONTAINS).
fn contains(target: &Json, cand: &Json) -> bool {
    match (target, cand) {
        (Json::Array(t), Json::Array(c)) => c.iter().all(|x| t.iter().any(|y| contains(y, x))),
        (Json::Array(t), c) => t.iter().any(|y| contains(y, c)),
        (Json::Object(_), Json::Object(c)) => {
            c.iter().all(|(k, cv)| target.member(k).is_some_and(|tv| contains(tv, cv)))
        }
        (_, Json::Array(_) | Json::Object(_)) => false,
        (t, c) => json::compare(t, c).is_eq(),
    }
}

fn overlaps(x: &Json, y: &Json) -> bool {
    match (x, y) {
        (Json::Array(a), Json::Array(b)) => a.iter().any(|p| b.iter().any(|q| json::compare(p, q).is_eq())),
        (Json::Array(a), s) | (s, Json::Array(a)) => a.iter().any(|p| json::compare(p, s).is_eq()),
        (Json::Object(a), Json::Object(_)) => {
            a.iter().any(|(k, v)| y.member(k).is_some_and(|w| json::compare(v, w).is_eq()))
        }
        (a, b) => json::compare(a, b).is_eq(),
    }
}

fn merge_preserve(a: Json, b: Json) -> Json {
    match (a, b) {
        (Json::Array(mut x), Json::Array(y)) => {
            x.extend(y);
            Json::Array(x)
        }
        (Json::Object(mut x), Json::Object(y)) => {
            for (k, v) in y {
                match x.binary_search_by(|(xk, _)| json::key_order(xk, &k)) {
                    Ok(i) => {
                        if let Some(slot) = x.get_mut(i) {
                            let old = std::mem::replace(&mut slot.1, Json::Null);
                            slot.1 = merge_preserve(old, v);
                        }
                    }
                    Err(i) => x.insert(i, (k, v)),
                }
            }
            Json::Object(x)
        }
        (Json::Array(mut x), y) => {
            x.push(y);
            Json::Array(x)
        }
        (x, Json::Array(y)) => {
            let mut v = vec![x];
            v.extend(y);
            Json::Array(v)
        }
        (x, y) => Json::Array(vec![x, y]),
    }
}

fn merge_patch(target: Json, patch: Json) -> Json {
    let Json::Object(p) = patch else { return patch };
    let mut t = match target {
        Json::Object(t) => t,
        _ => Vec::new(),
    };
    for (k, v) in p {
        let pos = t.binary_search_by(|(tk, _)| json::key_order(tk, &k));
        match (v, pos) {
            (Json::Null, Ok(i)) => {
                t.remove(i);
            }
            (Json::Null, Err(_)) => {}
            (v, Ok(i)) => {
                if let Some(slot) = t.get_mut(i) {
                    let old = std::mem::replace(&mut slot.1, Json::Null);
                    slot.1 = merge_patch(old, v);
                }
            }
            (v, Err(i)) => t.insert(i, (k, merge_patch(Json::Null, v))),
        }
    }
    Json::Object(t)
}

/// JSON_SET, JSON_INSERT and JSON_REPLACE.
fn modify(f: ScalarFunc, args: &[Value]) -> R {
    use ScalarFunc as F;
    if args.len() < 3 || args.len().is_multiple_of(2) {
        return Err(FuncError::WrongParamCount(f.name()));
    }
    let null = Value::Null;
    let Some(mut d) = doc(args.first().unwrap_or(&null), 1, f)? else { return Ok(Value::Null) };
    let (may_insert, may_replace) = match f {
        F::JsonSet => (true, true),
        F::JsonInsert => (true, false),
        _ => (false, true),
    };
    for (i, pv) in args.get(1..).unwrap_or(&[]).chunks(2).enumerate() {
        let Some(p) = single_path(pv.first().unwrap_or(&null), 2 * i + 2, f)? else { return Ok(Value::Null) };
        let v = val(pv.get(1).unwrap_or(&null));
        let legs = p.legs();
        let Some((last, parent_legs)) = legs.split_last() else {
            if may_replace {
                d = v;
            }
            continue;
        };
        let Some(parent) = path::locate_mut(&mut d, parent_legs) else { continue };
        match (last, parent) {
            (PathLeg::Member(k), Json::Object(m)) => match m.binary_search_by(|(x, _)| json::key_order(x, k)) {
                Ok(j) => {
                    if may_replace {
                        if let Some(slot) = m.get_mut(j) {
                            slot.1 = v;
                        }
                    }
                }
                Err(j) => {
                    if may_insert {
                        m.insert(j, (k.clone(), v));
                    }
                }
            },
            (PathLeg::Index(ix), Json::Array(a)) => match ix.resolve(a.len()) {
                Some(j) if j < a.len() => {
                    if may_replace {
                        if let Some(slot) = a.get_mut(j) {
                            *slot = v;
                        }
                    }
                }
                Some(_) => {
                    if may_insert {
                        a.push(v);
                    }
                }
                None => {
                    if may_insert {
                        a.insert(0, v);
                    }
                }
            },
            (PathLeg::Index(ix), other) => {
                // A non-array is an array of one (path invariant 3).
                if ix.resolve(1) == Some(0) {
                    if may_replace {
                        *other = v;
                    }
                } else if may_insert {
                    let old = std::mem::replace(other, Json::Null);
                    *other = Json::Array(vec![old, v]);
                }
            }
            _ => {}
        }
    }
    Ok(out(&d))
}

/// JSON_ARRAY_APPEND and JSON_ARRAY_INSERT.
fn array_add(f: ScalarFunc, args: &[Value]) -> R {
    if args.len() < 3 || args.len().is_multiple_of(2) {
        return Err(FuncError::WrongParamCount(f.name()));
    }
    let null = Value::Null;
    let Some(mut d) = doc(args.first().unwrap_or(&null), 1, f)? else { return Ok(Value::Null) };
    for (i, pv) in args.get(1..).unwrap_or(&[]).chunks(2).enumerate() {
        let Some(p) = single_path(pv.first().unwrap_or(&null), 2 * i + 2, f)? else { return Ok(Value::Null) };
        let v = val(pv.get(1).unwrap_or(&null));
        if f == ScalarFunc::JsonArrayAppend {
            let Some(target) = path::locate_mut(&mut d, p.legs()) else { continue };
            match target {
                Json::Array(a) => a.push(v),
                other => {
                    let old = std::mem::replace(other, Json::Null);
                    *other = Json::Array(vec![old, v]);
                }
            }
        } else {
            let Some((PathLeg::Index(ix), parent_legs)) = p.legs().split_last() else {
                return Err(site(JsonErrorSite::NotArrayCell));
            };
            if let Some(Json::Array(a)) = path::locate_mut(&mut d, parent_legs) {
                let at = ix.resolve(a.len()).unwrap_or(0).min(a.len());
                a.insert(at, v);
            }
        }
    }
    Ok(out(&d))
}

fn remove(args: &[Value]) -> R {
    let f = ScalarFunc::JsonRemove;
    let null = Value::Null;
    let Some(mut d) = doc(args.first().unwrap_or(&null), 1, f)? else { return Ok(Value::Null) };
    for (i, p) in args.iter().enumerate().skip(1) {
        let Some(p) = single_path(p, i + 1, f)? else { return Ok(Value::Null) };
        let Some((last, parent_legs)) = p.legs().split_last() else {
            return Err(site(JsonErrorSite::Vacuous));
        };
        match (last, path::locate_mut(&mut d, parent_legs)) {
            (PathLeg::Member(k), Some(Json::Object(m))) => {
                if let Ok(j) = m.binary_search_by(|(x, _)| json::key_order(x, k)) {
                    m.remove(j);
                }
            }
            (PathLeg::Index(ix), Some(Json::Array(a))) => {
                if let Some(j) = ix.resolve(a.len()).filter(|&j| j < a.len()) {
                    a.remove(j);
                }
            }
            _ => {}
        }
    }
    Ok(out(&d))
}

/// LIKE over characters with `%`, `_` and an escape character.
fn like(text: &[char], pat: &[char], esc: char) -> bool {
    match pat.split_first() {
        None => text.is_empty(),
        Some(('%', rest)) => (0..=text.len()).any(|i| like(text.get(i..).unwrap_or(&[]), rest, esc)),
        Some(('_', rest)) => text.split_first().is_some_and(|(_, t)| like(t, rest, esc)),
        Some((&c, rest)) => {
            let (c, rest) = match (c == esc, rest.split_first()) {
                (true, Some((&n, r))) => (n, r),
                _ => (c, rest),
            };
            text.split_first().is_some_and(|(&t, tr)| t == c && like(tr, rest, esc))
        }
    }
}

fn search(f: ScalarFunc, args: &[Value]) -> R {
    let null = Value::Null;
    let a = |i: usize| args.get(i).unwrap_or(&null);
    let Some(d) = doc(a(0), 1, f)? else { return Ok(Value::Null) };
    let all = match a(1) {
        Value::Null => return Ok(Value::Null),
        v => match v.to_text_lossy().to_ascii_lowercase().as_str() {
            "one" => false,
            "all" => true,
            _ => return Err(site(JsonErrorSite::OneOrAll { func: fname(f) })),
        },
    };
    if a(2).is_null() {
        return Ok(Value::Null);
    }
    let pat: Vec<char> = a(2).to_text_lossy().chars().collect();
    let esc = match args.get(3) {
        None | Some(Value::Null) => '\\',
        Some(e) => {
            let s = e.to_text_lossy();
            let mut cs = s.chars();
            match (cs.next(), cs.next()) {
                (None, _) => '\\',
                (Some(c), None) => c,
                _ => return Err(FuncError::WrongArguments("ESCAPE")),
            }
        }
    };
    let mut roots: Vec<(String, &Json)> = Vec::new();
    if args.len() > 4 {
        for (i, p) in args.iter().enumerate().skip(4) {
            let Some(p) = path_arg(p, i + 1, f)? else { return Ok(Value::Null) };
            let found = path::eval(&d, &p).map_err(|e| jerr(e, JsonErrorSite::Arg { arg: 1, func: fname(f) }))?;
            // A match under a wildcard path is reported with its own path
            // from the root (Not yet: wildcard path arguments narrow the
            // search only to the whole document).
            if p.has_wildcard() {
                roots.push(("$".to_string(), &d));
            } else if let Some(v) = found.first() {
                roots.push((p.to_string(), *v));
            }
        }
    } else {
        roots.push(("$".to_string(), &d));
    }
    let mut hits: Vec<String> = Vec::new();
    for (prefix, v) in roots {
        collect(v, prefix, &pat, esc, &mut hits);
    }
    let mut uniq: Vec<String> = Vec::new();
    for h in hits {
        if !uniq.contains(&h) {
            uniq.push(h);
        }
    }
    Ok(match (all, uniq.len()) {
        (_, 0) => Value::Null,
        (false, _) | (true, 1) => out(&Json::String(uniq.swap_remove(0))),
        (true, _) => out(&Json::Array(uniq.into_iter().map(Json::String).collect())),
    })
}

fn collect(v: &Json, at: String, pat: &[char], esc: char, hits: &mut Vec<String>) {
    match v {
        Json::String(s) => {
            let chars: Vec<char> = s.chars().collect();
            if like(&chars, pat, esc) {
                hits.push(at);
            }
        }
        Json::Array(a) => {
            for (i, e) in a.iter().enumerate() {
                collect(e, format!("{at}[{i}]"), pat, esc, hits);
            }
        }
        Json::Object(o) => {
            for (k, e) in o {
                let leg = JsonPath::parse(&format!("$.{k}"))
                    .ok()
                    .filter(|p| p.legs() == [PathLeg::Member(k.clone())])
                    .map(|_| format!(".{k}"))
                    .unwrap_or_else(|| {
                        let mut q = String::from(".");
                        json::text::write_string(k, &mut q);
                        q
                    });
                collect(e, format!("{at}{leg}"), pat, esc, hits);
            }
        }
        _ => {}
    }
}
