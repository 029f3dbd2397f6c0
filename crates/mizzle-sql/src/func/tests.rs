//! Tests of the scalar function library against MySQL 8's documented
//! results, plus two sweeps over every function: no panic on any argument
//! kind, and `eval` agreeing with `return_type` on the result kind.

use mizzle_types::{Date, DateTime, Decimal, ErrorCode, IntWidth, SqlType, Value, Warning};

use super::*;

fn now() -> DateTime {
    DateTime::parse("2024-03-15 10:20:30.123456").expect("test literal")
}

/// Evaluates `name(args)` and returns the result with the warnings raised.
fn run(name: &str, args: &[Value]) -> (Result<Value, FuncError>, Vec<Warning>) {
    let f = lookup(name).unwrap_or_else(|| panic!("unknown function {name}"));
    let mut warnings = Vec::new();
    let mut rand_state = 42;
    let mut ctx = FuncCtx {
        now: now(),
        tz: &mizzle_types::TimeZone::utc(),
        warnings: &mut warnings,
        rand_state: &mut rand_state,
    };
    let r = f.eval(args, &mut ctx);
    (r, warnings)
}

fn ev(name: &str, args: &[Value]) -> Value {
    match run(name, args).0 {
        Ok(v) => v,
        Err(e) => panic!("{name} failed: {e}"),
    }
}

/// The result as MySQL's text protocol shows it.
fn txt(name: &str, args: &[Value]) -> String {
    ev(name, args).to_text_lossy()
}

fn warning_codes(name: &str, args: &[Value]) -> Vec<ErrorCode> {
    run(name, args).1.into_iter().map(|w| w.code).collect()
}

fn i(n: i64) -> Value {
    Value::Int(n)
}
fn u(n: u64) -> Value {
    Value::UInt(n)
}
fn f(x: f64) -> Value {
    Value::Double(x)
}
fn dec(s: &str) -> Value {
    Value::decimal(Decimal::parse(s).expect("test literal"))
}
fn s(x: &str) -> Value {
    Value::text(x)
}
fn b(x: &[u8]) -> Value {
    Value::bytes(x)
}
fn date(x: &str) -> Value {
    Value::Date(Date::parse(x).expect("test literal"))
}
fn dtm(x: &str) -> Value {
    Value::DateTime(DateTime::parse(x).expect("test literal"))
}
const N: Value = Value::Null;

// ---------------------------------------------------------------- lookup

#[test]
fn lookup_is_case_insensitive_and_knows_aliases() {
    assert_eq!(lookup("ABS"), Some(ScalarFunc::Abs));
    assert_eq!(lookup("Concat_Ws"), Some(ScalarFunc::ConcatWs));
    assert_eq!(lookup("ceil"), lookup("CEILING"));
    assert_eq!(lookup("power"), Some(ScalarFunc::Pow));
    assert_eq!(lookup("mid"), Some(ScalarFunc::Substring));
    assert_eq!(lookup("substr"), Some(ScalarFunc::Substring));
    assert_eq!(lookup("ucase"), Some(ScalarFunc::Upper));
    assert_eq!(lookup("lcase"), Some(ScalarFunc::Lower));
    assert_eq!(lookup("octet_length"), Some(ScalarFunc::Length));
    assert_eq!(lookup("character_length"), Some(ScalarFunc::CharLength));
    assert_eq!(lookup("sha"), Some(ScalarFunc::Sha1));
    assert_eq!(lookup("current_timestamp"), Some(ScalarFunc::Now));
    assert_eq!(lookup("localtimestamp"), Some(ScalarFunc::Now));
    assert_eq!(lookup("current_date"), Some(ScalarFunc::CurDate));
    assert_eq!(lookup("day"), Some(ScalarFunc::Day));
    assert_eq!(lookup("date_add"), Some(ScalarFunc::AddDate));
    assert_eq!(lookup("date_sub"), Some(ScalarFunc::SubDate));
}

#[test]
fn lookup_rejects_functions_handled_elsewhere() {
    for name in ["if", "ifnull", "coalesce", "nullif", "database", "user", "last_insert_id", "position", "nope"] {
        assert_eq!(lookup(name), None, "{name}");
    }
}

#[test]
fn every_function_is_found_by_its_own_name() {
    for f in ScalarFunc::ALL {
        let found = lookup(f.name());
        if *f == ScalarFunc::StrToDateAsDate {
            assert_eq!(found, Some(ScalarFunc::StrToDate));
        } else if *f == ScalarFunc::UnixTimestampUtc {
            // Chosen by the binder for a TIMESTAMP column's argument.
            assert_eq!(found, Some(ScalarFunc::UnixTimestamp));
        } else if *f == ScalarFunc::JsonMemberOf {
            // An operator (`x MEMBER OF (a)`), not callable by name.
            assert_eq!(found, None);
        } else {
            assert_eq!(found, Some(*f), "{}", f.name());
        }
    }
}

#[test]
fn wrong_argument_count_is_an_error_not_a_panic() {
    assert_eq!(run("abs", &[]).0, Err(FuncError::WrongParamCount("ABS")));
    assert_eq!(run("abs", &[i(1), i(2)]).0, Err(FuncError::WrongParamCount("ABS")));
    assert!(run("pi", &[i(1)]).0.is_err());
    assert_eq!(mizzle_types::SqlError::code(&FuncError::WrongParamCount("ABS")), ErrorCode::WrongParamCount);
}

#[test]
fn clock_and_randomness_are_not_deterministic() {
    for name in ["rand", "now", "sysdate", "curdate", "utc_timestamp", "unix_timestamp", "from_unixtime", "uuid"] {
        assert!(!lookup(name).expect("known").is_deterministic(), "{name}");
    }
    assert!(ScalarFunc::Abs.is_deterministic());
    assert!(ScalarFunc::DateFormat.is_deterministic());
}

// ---------------------------------------------------------------- math

#[test]
fn abs_keeps_the_argument_class() {
    assert_eq!(ev("abs", &[i(-2)]).to_text_lossy(), "2");
    assert!(matches!(ev("abs", &[i(-2)]), Value::Int(2)));
    assert!(matches!(ev("abs", &[u(3)]), Value::UInt(3)));
    assert_eq!(txt("abs", &[dec("-1.50")]), "1.50");
    assert!(matches!(ev("abs", &[s("-3.5")]), Value::Double(x) if x == 3.5));
    assert!(ev("abs", &[N]).is_null());
    assert!(matches!(run("abs", &[i(i64::MIN)]).0, Err(FuncError::Type(_))));
}

#[test]
fn numeric_text_with_garbage_warns_truncated() {
    assert_eq!(txt("abs", &[s("-3x")]), "3");
    assert_eq!(warning_codes("abs", &[s("-3x")]), vec![ErrorCode::TruncatedWrongValue]);
    assert_eq!(run("abs", &[s("-3x")]).1[0].message, "Truncated incorrect DOUBLE value: '-3x'");
    assert!(warning_codes("abs", &[s(" 12 ")]).is_empty());
}

#[test]
fn sign_gives_minus_one_zero_or_one() {
    assert_eq!(txt("sign", &[i(-32)]), "-1");
    assert_eq!(txt("sign", &[i(0)]), "0");
    assert_eq!(txt("sign", &[i(234)]), "1");
    assert_eq!(txt("sign", &[dec("-0.001")]), "-1");
    assert_eq!(txt("sign", &[f(-0.0)]), "0");
    assert_eq!(txt("sign", &[u(u64::MAX)]), "1");
}

#[test]
fn ceil_and_floor_of_decimals_have_scale_zero() {
    assert_eq!(txt("ceiling", &[dec("1.23")]), "2");
    assert_eq!(txt("ceil", &[dec("-1.23")]), "-1");
    assert_eq!(txt("floor", &[dec("1.23")]), "1");
    assert_eq!(txt("floor", &[dec("-1.23")]), "-2");
    assert!(matches!(ev("ceil", &[f(1.23)]), Value::Double(x) if x == 2.0));
    assert!(matches!(ev("floor", &[i(-7)]), Value::Int(-7)));
    assert!(matches!(ev("floor", &[s("2.7")]), Value::Double(x) if x == 2.0));
}

#[test]
fn round_exact_values_half_away_from_zero() {
    assert_eq!(txt("round", &[dec("-1.23")]), "-1");
    assert_eq!(txt("round", &[dec("-1.58")]), "-2");
    assert_eq!(txt("round", &[dec("1.58")]), "2");
    assert_eq!(txt("round", &[dec("1.5")]), "2");
    assert_eq!(txt("round", &[dec("2.5")]), "3");
    assert_eq!(txt("round", &[dec("-2.5")]), "-3");
    assert_eq!(txt("round", &[dec("1.298"), i(1)]), "1.3");
    assert_eq!(txt("round", &[dec("1.298"), i(0)]), "1");
    assert_eq!(txt("round", &[dec("23.298"), i(-1)]), "20");
    assert_eq!(txt("round", &[dec("1.2345"), i(2)]), "1.23");
    assert_eq!(txt("round", &[dec("150.000"), i(2)]), "150.00");
    assert_eq!(txt("round", &[dec("1.23"), i(5)]), "1.23");
    assert_eq!(txt("round", &[dec("1.5"), i(-100)]), "0");
}

#[test]
fn round_of_integers_stays_integer_and_accepts_negative_places() {
    assert!(matches!(ev("round", &[i(1234), i(-2)]), Value::Int(1200)));
    assert!(matches!(ev("round", &[i(1250), i(-2)]), Value::Int(1300)));
    assert!(matches!(ev("round", &[i(-1250), i(-2)]), Value::Int(-1300)));
    assert!(matches!(ev("round", &[i(150), i(2)]), Value::Int(150)));
    assert!(matches!(ev("round", &[i(5), i(-30)]), Value::Int(0)));
    assert!(matches!(ev("round", &[u(1234), i(-2)]), Value::UInt(1200)));
    assert!(run("round", &[i(i64::MAX), i(-1)]).0.is_err());
}

#[test]
fn round_of_doubles_is_half_even() {
    assert!(matches!(ev("round", &[f(2.5)]), Value::Double(x) if x == 2.0));
    assert!(matches!(ev("round", &[f(3.5)]), Value::Double(x) if x == 4.0));
    assert!(matches!(ev("round", &[f(-2.5)]), Value::Double(x) if x == -2.0));
    assert_eq!(txt("round", &[f(1.298), i(1)]), "1.3");
    assert_eq!(txt("round", &[f(1234.5), i(-2)]), "1200");
    assert_eq!(txt("round", &[f(1e300), i(400)]), "1e300");
    assert_eq!(txt("round", &[f(1e300), i(-400)]), "0");
    assert!(ev("round", &[f(1.5), N]).is_null());
}

#[test]
fn truncate_cuts_toward_zero() {
    assert_eq!(txt("truncate", &[dec("1.223"), i(1)]), "1.2");
    assert_eq!(txt("truncate", &[dec("1.999"), i(1)]), "1.9");
    assert_eq!(txt("truncate", &[dec("1.999"), i(0)]), "1");
    assert_eq!(txt("truncate", &[dec("-1.999"), i(1)]), "-1.9");
    assert_eq!(txt("truncate", &[i(122), i(-2)]), "100");
    assert_eq!(txt("truncate", &[dec("1028.00"), i(0)]), "1028");
    assert_eq!(txt("truncate", &[f(-1.999), i(1)]), "-1.9");
    assert_eq!(txt("truncate", &[f(1.223), i(1)]), "1.2");
}

#[test]
fn mod_follows_mysql_and_warns_on_zero() {
    assert_eq!(txt("mod", &[i(234), i(10)]), "4");
    assert_eq!(txt("mod", &[i(253), i(7)]), "1");
    assert_eq!(txt("mod", &[i(-7), i(3)]), "-1");
    assert_eq!(txt("mod", &[dec("34.5"), i(3)]), "1.5");
    assert!(matches!(ev("mod", &[f(5.5), i(2)]), Value::Double(x) if x == 1.5));
    let (r, w) = run("mod", &[i(1), i(0)]);
    assert_eq!(r, Ok(Value::Null));
    assert_eq!(w, vec![Warning::new(ErrorCode::DivisionByZero, "Division by 0")]);
    assert!(ev("mod", &[N, i(2)]).is_null());
}

#[test]
fn powers_roots_and_logarithms() {
    assert_eq!(txt("pow", &[i(2), i(2)]), "4");
    assert_eq!(txt("power", &[i(2), i(-2)]), "0.25");
    assert!(run("pow", &[i(10), i(400)]).0.is_err());
    assert!(run("pow", &[i(-8), f(0.5)]).0.is_err());
    assert_eq!(txt("sqrt", &[i(4)]), "2");
    assert_eq!(txt("sqrt", &[i(20)]), "4.47213595499958");
    assert!(ev("sqrt", &[i(-16)]).is_null());
    assert_eq!(txt("exp", &[i(0)]), "1");
    assert_eq!(txt("exp", &[i(2)]), "7.38905609893065");
    assert!(run("exp", &[i(1000)]).0.is_err());
    assert_eq!(txt("ln", &[i(2)]), "0.6931471805599453");
    assert_eq!(txt("log", &[i(2)]), "0.6931471805599453");
    assert_eq!(txt("log", &[i(2), i(65536)]), "16");
    assert_eq!(txt("log", &[i(10), i(100)]), "2");
    assert_eq!(txt("log2", &[i(65536)]), "16");
    assert_eq!(txt("log10", &[i(100)]), "2");
    assert_eq!(txt("log10", &[i(2)]), "0.3010299956639812");
}

#[test]
fn logarithm_of_non_positive_is_null_with_warning() {
    for (name, args) in [
        ("ln", vec![i(0)]),
        ("ln", vec![i(-2)]),
        ("log", vec![i(-1)]),
        ("log", vec![i(1), i(100)]),
        ("log", vec![i(2), i(0)]),
        ("log2", vec![i(-100)]),
        ("log10", vec![i(0)]),
    ] {
        let (r, w) = run(name, &args);
        assert_eq!(r, Ok(Value::Null), "{name}{args:?}");
        assert_eq!(w.len(), 1, "{name}{args:?}");
        assert_eq!(w[0].message, "Invalid argument for logarithm");
    }
    assert!(run("ln", &[N]).1.is_empty());
}

#[test]
fn trigonometry_matches_mysql() {
    assert_eq!(txt("pi", &[]), "3.141592653589793");
    assert_eq!(txt("cos", &[ev("pi", &[])]), "-1");
    assert_eq!(txt("sin", &[i(0)]), "0");
    assert_eq!(txt("asin", &[f(0.2)]), "0.2013579207903308");
    assert!(ev("asin", &[i(2)]).is_null());
    assert_eq!(txt("acos", &[i(1)]), "0");
    assert!(ev("acos", &[f(1.0001)]).is_null());
    assert_eq!(txt("atan", &[i(2)]), "1.1071487177940904");
    assert_eq!(txt("atan", &[i(-2), i(2)]), "-0.7853981633974483");
    assert_eq!(txt("atan2", &[ev("pi", &[]), i(0)]), "1.5707963267948966");
    assert_eq!(txt("cot", &[i(12)]), "-1.5726734063976893");
    assert!(run("cot", &[i(0)]).0.is_err());
    assert_eq!(txt("degrees", &[ev("pi", &[])]), "180");
    assert_eq!(txt("radians", &[i(90)]), "1.5707963267948966");
}

#[test]
fn rand_uses_the_session_state_and_seeds_deterministically() {
    let mut warnings = Vec::new();
    let mut state = 7;
    let mut ctx =
        FuncCtx { now: now(), tz: &mizzle_types::TimeZone::utc(), warnings: &mut warnings, rand_state: &mut state };
    let a = ScalarFunc::Rand.eval(&[], &mut ctx).expect("rand");
    let b = ScalarFunc::Rand.eval(&[], &mut ctx).expect("rand");
    assert_ne!(a.to_text_lossy(), b.to_text_lossy());
    for v in [&a, &b] {
        assert!(matches!(v, Value::Double(x) if (0.0..1.0).contains(x)));
    }
    let mut state2 = 7;
    let mut ctx2 =
        FuncCtx { now: now(), tz: &mizzle_types::TimeZone::utc(), warnings: &mut warnings, rand_state: &mut state2 };
    let a2 = ScalarFunc::Rand.eval(&[], &mut ctx2).expect("rand");
    assert_eq!(a.to_text_lossy(), a2.to_text_lossy());
    assert_eq!(txt("rand", &[i(3)]), txt("rand", &[i(3)]));
    assert_ne!(txt("rand", &[i(3)]), txt("rand", &[i(4)]));
}

#[test]
fn greatest_and_least_follow_mysql_aggregation() {
    assert!(matches!(ev("greatest", &[i(2), i(0)]), Value::Int(2)));
    assert!(matches!(ev("least", &[i(2), i(0)]), Value::Int(0)));
    assert_eq!(txt("greatest", &[dec("34.0"), dec("3.0"), dec("5.0"), dec("767.0")]), "767.0");
    assert_eq!(txt("least", &[dec("34.0"), dec("3.0"), dec("5.0"), dec("767.0")]), "3.0");
    assert_eq!(txt("greatest", &[s("B"), s("A"), s("C")]), "C");
    assert_eq!(txt("least", &[s("B"), s("A"), s("C")]), "A");
    assert!(ev("greatest", &[i(1), N]).is_null());
    assert!(matches!(ev("greatest", &[i(1), dec("1.5")]), Value::Decimal(_)));
    assert!(matches!(ev("greatest", &[i(1), f(0.5)]), Value::Double(x) if x == 1.0));
    assert_eq!(txt("least", &[i(-1), u(u64::MAX)]), "-1");
    assert!(matches!(ev("least", &[i(-1), u(u64::MAX)]), Value::Decimal(_)));
    assert_eq!(txt("greatest", &[date("2024-01-01"), date("2023-05-05")]), "2024-01-01");
    assert!(matches!(ev("greatest", &[date("2024-01-01"), dtm("2024-01-01 00:00:01")]), Value::DateTime(_)));
    // Numbers mixed with strings compare as strings in MySQL 8.
    assert_eq!(txt("greatest", &[i(2), s("10")]), "2");
    assert_eq!(txt("greatest", &[s("é"), s("z")]), "é");
}

#[test]
fn format_groups_thousands_and_rounds() {
    assert_eq!(txt("format", &[dec("12332.123456"), i(4)]), "12,332.1235");
    assert_eq!(txt("format", &[dec("12332.1"), i(4)]), "12,332.1000");
    assert_eq!(txt("format", &[dec("12332.2"), i(0)]), "12,332");
    assert_eq!(txt("format", &[dec("-1234.567"), i(2)]), "-1,234.57");
    assert_eq!(txt("format", &[dec("0.5"), i(0)]), "1");
    assert_eq!(txt("format", &[f(2.5), i(0)]), "2");
    assert_eq!(txt("format", &[i(1234567), i(-3)]), "1,234,567");
    assert_eq!(txt("format", &[dec("-0.4"), i(0)]), "0");
    assert_eq!(txt("format", &[i(100), i(2), s("de_DE")]), "100.00");
    assert!(ev("format", &[N, i(2)]).is_null());
}

// ---------------------------------------------------------------- encodings

#[test]
fn conv_bin_oct_hex_unhex() {
    assert_eq!(txt("conv", &[s("a"), i(16), i(2)]), "1010");
    assert_eq!(txt("conv", &[s("6E"), i(18), i(8)]), "172");
    assert_eq!(txt("conv", &[i(-17), i(10), i(-18)]), "-H");
    assert_eq!(txt("conv", &[i(40), i(10), i(10)]), "40");
    assert!(ev("conv", &[s("1"), i(1), i(10)]).is_null());
    assert!(ev("conv", &[s("1"), i(10), i(37)]).is_null());
    assert_eq!(txt("bin", &[i(12)]), "1100");
    assert_eq!(txt("bin", &[i(-1)]), "1".repeat(64));
    assert_eq!(txt("oct", &[i(12)]), "14");
    assert_eq!(txt("hex", &[i(255)]), "FF");
    assert_eq!(txt("hex", &[s("abc")]), "616263");
    assert_eq!(txt("hex", &[i(-1)]), "FFFFFFFFFFFFFFFF");
    assert_eq!(txt("hex", &[f(1.5)]), "2");
    assert_eq!(txt("hex", &[date("2024-01-02")]), "323032342D30312D3032");
    assert_eq!(ev("unhex", &[s("4D7953514C")]).to_text_lossy(), "MySQL");
    assert!(matches!(ev("unhex", &[s("F")]), Value::Bytes(b) if b.as_ref() == [0x0F]));
    assert!(ev("unhex", &[s("GG")]).is_null());
    assert!(ev("hex", &[N]).is_null());
}

#[test]
fn digests_match_known_vectors() {
    assert_eq!(txt("md5", &[s("")]), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(txt("md5", &[s("testing")]), "ae2b1fca515949e5d54fb22b8ed95575");
    assert_eq!(txt("md5", &[s("The quick brown fox jumps over the lazy dog")]), "9e107d9d372bb6826bd81d3542a419d6");
    let long = "a".repeat(1000);
    assert_eq!(txt("md5", &[s(&long)]), "cabe45dcc9ae5b66ba86600cca6b8ba8");
    assert_eq!(txt("sha1", &[s("")]), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    assert_eq!(txt("sha", &[s("abc")]), "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_eq!(
        txt("sha1", &[s("The quick brown fox jumps over the lazy dog")]),
        "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"
    );
    assert_eq!(txt("sha1", &[s(&long)]), "291e9a6c66994949b57ba5e650361e98fc36b1ba");
    assert_eq!(txt("crc32", &[s("MySQL")]), "3259397556");
    assert_eq!(txt("crc32", &[s("mysql")]), "2501908538");
    assert!(matches!(ev("crc32", &[s("")]), Value::UInt(0)));
    assert!(ev("md5", &[N]).is_null());
}

#[test]
fn base64_round_trips_and_wraps_lines() {
    assert_eq!(txt("to_base64", &[s("abc")]), "YWJj");
    assert_eq!(txt("to_base64", &[s("ab")]), "YWI=");
    assert_eq!(txt("to_base64", &[s("a")]), "YQ==");
    assert_eq!(ev("from_base64", &[s("YWJj")]).to_text_lossy(), "abc");
    assert_eq!(ev("from_base64", &[s("YQ==")]).to_text_lossy(), "a");
    assert!(ev("from_base64", &[s("!!")]).is_null());
    let long = ev("to_base64", &[s(&"x".repeat(100))]).to_text_lossy();
    assert_eq!(long.find('\n'), Some(76));
    assert_eq!(ev("from_base64", &[s(&long)]).to_text_lossy(), "x".repeat(100));
    assert!(matches!(ev("from_base64", &[s("YWJj")]), Value::Bytes(_)));
}

// ---------------------------------------------------------------- strings

#[test]
fn lengths_count_bytes_or_code_points() {
    assert_eq!(txt("length", &[s("text")]), "4");
    assert_eq!(txt("length", &[s("é")]), "2");
    assert_eq!(txt("octet_length", &[s("é")]), "2");
    assert_eq!(txt("char_length", &[s("é")]), "1");
    assert_eq!(txt("character_length", &[s("héllo")]), "5");
    assert_eq!(txt("char_length", &[b(&[0xC3, 0xA9])]), "2");
    assert_eq!(txt("bit_length", &[s("text")]), "32");
    assert_eq!(txt("length", &[dec("12.5")]), "4");
    assert!(ev("length", &[N]).is_null());
}

#[test]
fn concat_propagates_null_and_concat_ws_skips_it() {
    assert_eq!(txt("concat", &[s("My"), s("S"), s("QL")]), "MySQL");
    assert!(ev("concat", &[s("My"), N, s("QL")]).is_null());
    assert_eq!(txt("concat", &[dec("14.3")]), "14.3");
    assert!(matches!(ev("concat", &[s("a"), b(&[0xFF])]), Value::Bytes(x) if x.as_ref() == b"a\xFF"));
    assert_eq!(
        txt("concat_ws", &[s(","), s("First name"), s("Second name"), s("Last Name")]),
        "First name,Second name,Last Name"
    );
    assert_eq!(txt("concat_ws", &[s(","), s("First name"), N, s("Last Name")]), "First name,Last Name");
    assert!(ev("concat_ws", &[N, s("a")]).is_null());
    assert_eq!(txt("concat_ws", &[s("-"), i(1), date("2024-01-02")]), "1-2024-01-02");
}

#[test]
fn case_mapping_is_per_code_point() {
    assert_eq!(txt("upper", &[s("héllo")]), "HÉLLO");
    assert_eq!(txt("lower", &[s("QUADRATICALLY")]), "quadratically");
    assert_eq!(txt("ucase", &[s("straße")]), "STRAßE");
    assert!(matches!(ev("upper", &[b(b"abc")]), Value::Bytes(x) if x.as_ref() == b"abc"));
}

#[test]
fn substring_counts_code_points_and_negative_positions() {
    assert_eq!(txt("substring", &[s("Quadratically"), i(5)]), "ratically");
    assert_eq!(txt("substring", &[s("Quadratically"), i(5), i(6)]), "ratica");
    assert_eq!(txt("substring", &[s("Sakila"), i(-3)]), "ila");
    assert_eq!(txt("substring", &[s("Sakila"), i(-5), i(3)]), "aki");
    assert_eq!(txt("substr", &[s("héllo"), i(2), i(3)]), "éll");
    assert_eq!(txt("mid", &[s("abc"), i(0)]), "");
    assert_eq!(txt("substring", &[s("abc"), i(10)]), "");
    assert_eq!(txt("substring", &[s("abc"), i(2), i(-1)]), "");
    assert_eq!(txt("substring", &[s("Sakila"), i(-10)]), "");
    assert_eq!(txt("substring", &[s("abc"), i(i64::MIN), i(i64::MAX)]), "");
    assert_eq!(txt("substring", &[i(12345), i(2), i(2)]), "23");
    assert!(matches!(ev("substring", &[b(&[1, 2, 0xFF]), i(2)]), Value::Bytes(x) if x.as_ref() == [2, 0xFF]));
    assert!(ev("substring", &[s("abc"), N]).is_null());
}

#[test]
fn left_right_trim_and_friends() {
    assert_eq!(txt("left", &[s("foobarbar"), i(5)]), "fooba");
    assert_eq!(txt("right", &[s("foobarbar"), i(4)]), "rbar");
    assert_eq!(txt("left", &[s("abc"), i(-1)]), "");
    assert_eq!(txt("right", &[s("héllo"), i(4)]), "éllo");
    assert_eq!(txt("right", &[s("ab"), i(10)]), "ab");
    assert_eq!(txt("trim", &[s("  bar   ")]), "bar");
    assert_eq!(txt("ltrim", &[s("  barbar")]), "barbar");
    assert_eq!(txt("rtrim", &[s("barbar   ")]), "barbar");
    assert_eq!(txt("trim", &[s("\tx ")]), "\tx");
    assert_eq!(txt("replace", &[s("www.mysql.com"), s("w"), s("Ww")]), "WwWwWw.mysql.com");
    assert_eq!(txt("replace", &[s("abc"), s(""), s("x")]), "abc");
    assert_eq!(txt("replace", &[s("héhé"), s("é"), s("e")]), "hehe");
    assert_eq!(txt("reverse", &[s("abc")]), "cba");
    assert_eq!(txt("reverse", &[s("héllo")]), "olléh");
    assert_eq!(txt("space", &[i(3)]), "   ");
    assert_eq!(txt("space", &[i(-3)]), "");
}

#[test]
fn repeat_and_pad_refuse_results_over_the_packet_limit() {
    assert_eq!(txt("repeat", &[s("MySQL"), i(3)]), "MySQLMySQLMySQL");
    assert_eq!(txt("repeat", &[s("a"), i(0)]), "");
    assert_eq!(txt("repeat", &[s("a"), i(-1)]), "");
    let (r, w) = run("repeat", &[s("ab"), i(1_000_000_000_000_000_000)]);
    assert_eq!(r, Ok(Value::Null));
    assert_eq!(w.len(), 1);
    assert!(w[0].message.contains("max_allowed_packet"));
    assert!(ev("space", &[i(i64::MAX)]).is_null());
    assert!(ev("lpad", &[s("a"), i(i64::MAX), s("x")]).is_null());
}

#[test]
fn lpad_and_rpad_pad_or_cut() {
    assert_eq!(txt("lpad", &[s("hi"), i(4), s("??")]), "??hi");
    assert_eq!(txt("lpad", &[s("hi"), i(1), s("??")]), "h");
    assert_eq!(txt("rpad", &[s("hi"), i(5), s("?")]), "hi???");
    assert_eq!(txt("rpad", &[s("hi"), i(1), s("?")]), "h");
    assert_eq!(txt("lpad", &[s("é"), i(3), s("ü")]), "üüé");
    assert_eq!(txt("rpad", &[s("ab"), i(7), s("xyz")]), "abxyzxy");
    assert_eq!(txt("lpad", &[s("hi"), i(0), s("x")]), "");
    assert!(ev("lpad", &[s("hi"), i(5), s("")]).is_null());
    assert!(ev("lpad", &[s("hi"), i(-1), s("x")]).is_null());
}

#[test]
fn instr_and_locate_give_code_point_positions() {
    assert_eq!(txt("instr", &[s("foobarbar"), s("bar")]), "4");
    assert_eq!(txt("instr", &[s("xbar"), s("foobar")]), "0");
    assert_eq!(txt("locate", &[s("bar"), s("foobarbar")]), "4");
    assert_eq!(txt("locate", &[s("xbar"), s("foobar")]), "0");
    assert_eq!(txt("locate", &[s("bar"), s("foobarbar"), i(5)]), "7");
    assert_eq!(txt("locate", &[s("l"), s("héllo")]), "3");
    assert_eq!(txt("locate", &[s(""), s("abc")]), "1");
    assert_eq!(txt("locate", &[s("a"), s("abc"), i(0)]), "0");
    assert_eq!(txt("locate", &[s("a"), s("abc"), i(-5)]), "0");
    assert!(ev("locate", &[N, s("abc")]).is_null());
}

#[test]
fn ascii_ord_and_char() {
    assert_eq!(txt("ascii", &[s("2")]), "50");
    assert_eq!(txt("ascii", &[i(2)]), "50");
    assert_eq!(txt("ascii", &[s("dx")]), "100");
    assert_eq!(txt("ascii", &[s("")]), "0");
    assert_eq!(txt("ord", &[s("2")]), "50");
    assert_eq!(txt("ord", &[s("é")]), "50089");
    assert_eq!(ev("char", &[i(77), i(121), i(83), i(81), s("76")]).to_text_lossy(), "MySQL");
    assert!(matches!(ev("char", &[i(256)]), Value::Bytes(x) if x.as_ref() == [1, 0]));
    assert!(matches!(ev("char", &[i(1), N, i(2)]), Value::Bytes(x) if x.as_ref() == [1, 2]));
    assert!(matches!(ev("char", &[i(-1)]), Value::Bytes(x) if x.as_ref() == [0xFF; 4]));
}

#[test]
fn strcmp_field_elt_find_in_set() {
    assert_eq!(txt("strcmp", &[s("text"), s("text2")]), "-1");
    assert_eq!(txt("strcmp", &[s("text2"), s("text")]), "1");
    assert_eq!(txt("strcmp", &[s("text"), s("text")]), "0");
    assert!(ev("strcmp", &[s("a"), N]).is_null());
    let list = [s("Aa"), s("Bb"), s("Cc"), s("Dd"), s("Ff")];
    let mut args = vec![s("Bb")];
    args.extend(list.iter().cloned());
    assert_eq!(txt("field", &args), "2");
    args[0] = s("Gg");
    assert_eq!(txt("field", &args), "0");
    assert_eq!(txt("field", &[N, s("a")]), "0");
    assert_eq!(txt("field", &[i(2), i(1), dec("2.0")]), "2");
    assert_eq!(txt("field", &[s("2"), i(1), i(2)]), "2");
    assert_eq!(txt("elt", &[i(1), s("Aa"), s("Bb"), s("Cc"), s("Dd")]), "Aa");
    assert_eq!(txt("elt", &[i(4), s("Aa"), s("Bb"), s("Cc"), s("Dd")]), "Dd");
    assert!(ev("elt", &[i(5), s("Aa"), s("Bb"), s("Cc"), s("Dd")]).is_null());
    assert!(ev("elt", &[i(0), s("Aa")]).is_null());
    assert_eq!(txt("find_in_set", &[s("b"), s("a,b,c,d")]), "2");
    assert_eq!(txt("find_in_set", &[s("x"), s("")]), "0");
    assert_eq!(txt("find_in_set", &[s("a,b"), s("a,b")]), "0");
    assert!(ev("find_in_set", &[N, s("a")]).is_null());
}

#[test]
fn insert_quote_and_substring_index() {
    assert_eq!(txt("insert", &[s("Quadratic"), i(3), i(4), s("What")]), "QuWhattic");
    assert_eq!(txt("insert", &[s("Quadratic"), i(-1), i(4), s("What")]), "Quadratic");
    assert_eq!(txt("insert", &[s("Quadratic"), i(3), i(100), s("What")]), "QuWhat");
    assert_eq!(txt("insert", &[s("héllo"), i(2), i(1), s("e")]), "hello");
    assert_eq!(txt("quote", &[s("Don't!")]), "'Don\\'t!'");
    assert_eq!(txt("quote", &[s("a\\b\0")]), "'a\\\\b\\0'");
    assert_eq!(txt("quote", &[N]), "NULL");
    assert_eq!(txt("substring_index", &[s("www.mysql.com"), s("."), i(2)]), "www.mysql");
    assert_eq!(txt("substring_index", &[s("www.mysql.com"), s("."), i(-2)]), "mysql.com");
    assert_eq!(txt("substring_index", &[s("www.mysql.com"), s("."), i(0)]), "");
    assert_eq!(txt("substring_index", &[s("www.mysql.com"), s("x"), i(1)]), "www.mysql.com");
    assert_eq!(txt("substring_index", &[s("a.b"), s("."), i(5)]), "a.b");
}

// ---------------------------------------------------------------- dates

#[test]
fn clock_functions_read_the_statement_time() {
    assert_eq!(txt("now", &[]), "2024-03-15 10:20:30");
    assert_eq!(txt("current_timestamp", &[i(3)]), "2024-03-15 10:20:30.123000");
    assert_eq!(txt("now", &[i(6)]), "2024-03-15 10:20:30.123456");
    assert!(run("now", &[i(7)]).0.is_err());
    assert_eq!(txt("curdate", &[]), "2024-03-15");
    assert_eq!(txt("utc_date", &[]), "2024-03-15");
    assert_eq!(txt("utc_timestamp", &[]), "2024-03-15 10:20:30");
    assert_eq!(txt("unix_timestamp", &[]), "1710498030");
}

#[test]
fn unix_timestamp_and_from_unixtime() {
    assert_eq!(txt("unix_timestamp", &[s("2015-11-13 10:20:19")]), "1447410019");
    assert_eq!(txt("unix_timestamp", &[s("2015-11-13 10:20:19.012")]), "1447410019.012000");
    assert!(matches!(ev("unix_timestamp", &[date("2015-11-13")]), Value::Int(1447372800)));
    assert_eq!(txt("unix_timestamp", &[s("1960-01-01")]), "0");
    assert!(ev("unix_timestamp", &[s("nope")]).is_null());
    assert_eq!(txt("from_unixtime", &[i(1447430881)]), "2015-11-13 16:08:01");
    assert_eq!(txt("from_unixtime", &[dec("1447430881.5")]), "2015-11-13 16:08:01.500000");
    assert_eq!(txt("from_unixtime", &[i(1447430881), s("%Y %D %M %h:%i:%s %x")]), "2015 13th November 04:08:01 2015");
    assert!(ev("from_unixtime", &[i(-1)]).is_null());
    assert!(ev("from_unixtime", &[i(i64::MAX)]).is_null());
}

#[test]
fn field_extraction_follows_mysql() {
    assert_eq!(txt("date", &[s("2003-12-31 01:02:03")]), "2003-12-31");
    assert_eq!(txt("year", &[s("1987-01-01")]), "1987");
    assert_eq!(txt("month", &[s("2008-02-03")]), "2");
    assert_eq!(txt("dayofmonth", &[s("2007-02-03")]), "3");
    assert_eq!(txt("day", &[date("2007-02-03")]), "3");
    assert_eq!(txt("hour", &[s("10:05:03")]), "10");
    assert_eq!(txt("hour", &[s("272:59:59")]), "272");
    assert_eq!(txt("minute", &[s("10:05")]), "5");
    assert_eq!(txt("hour", &[dtm("2024-01-01 23:00:00")]), "23");
    assert_eq!(txt("minute", &[s("2008-02-03 10:05:03")]), "5");
    assert_eq!(txt("second", &[s("10:05:03")]), "3");
    assert_eq!(txt("microsecond", &[s("12:00:00.123456")]), "123456");
    assert_eq!(txt("microsecond", &[s("2019-12-31 23:59:59.000010")]), "10");
    assert_eq!(txt("dayofweek", &[s("2007-02-03")]), "7");
    assert_eq!(txt("weekday", &[s("2008-02-03 22:23:00")]), "6");
    assert_eq!(txt("weekday", &[s("2007-11-06")]), "1");
    assert_eq!(txt("dayofyear", &[s("2007-02-03")]), "34");
    assert_eq!(txt("dayname", &[s("2007-02-03")]), "Saturday");
    assert_eq!(txt("monthname", &[s("2008-02-03")]), "February");
    assert_eq!(txt("quarter", &[s("2008-04-01")]), "2");
    assert_eq!(txt("year", &[i(20240105)]), "2024");
    assert_eq!(txt("to_days", &[i(950501)]), "728779");
    assert_eq!(txt("to_days", &[s("2007-10-07")]), "733321");
    assert_eq!(txt("from_days", &[i(730669)]), "2000-07-03");
    assert!(ev("from_days", &[i(10)]).is_null());
}

#[test]
fn invalid_dates_are_null_with_warning_1292() {
    for name in ["year", "date", "dayname", "last_day", "to_days", "hour"] {
        let (r, w) = run(name, &[s("2003-03-32")]);
        assert_eq!(r, Ok(Value::Null), "{name}");
        assert_eq!(
            w,
            vec![Warning::new(ErrorCode::TruncatedWrongValue, "Incorrect datetime value: '2003-03-32'")],
            "{name}"
        );
    }
    assert!(run("year", &[N]).1.is_empty());
}

#[test]
fn week_modes_follow_mysql() {
    assert_eq!(txt("week", &[s("2008-02-20")]), "7");
    assert_eq!(txt("week", &[s("2008-02-20"), i(0)]), "7");
    assert_eq!(txt("week", &[s("2008-02-20"), i(1)]), "8");
    assert_eq!(txt("week", &[s("2008-12-31"), i(1)]), "53");
    assert_eq!(txt("week", &[s("2000-01-01"), i(0)]), "0");
    assert_eq!(txt("week", &[s("2000-01-01"), i(2)]), "52");
    assert_eq!(txt("yearweek", &[s("1987-01-01")]), "198652");
    assert_eq!(txt("weekofyear", &[s("2008-02-20")]), "8");
}

#[test]
fn last_day_datediff_makedate() {
    assert_eq!(txt("last_day", &[s("2003-02-05")]), "2003-02-28");
    assert_eq!(txt("last_day", &[s("2004-02-05")]), "2004-02-29");
    assert_eq!(txt("last_day", &[s("2004-01-01 01:01:01")]), "2004-01-31");
    assert_eq!(txt("datediff", &[s("2007-12-31 23:59:59"), s("2007-12-30")]), "1");
    assert_eq!(txt("datediff", &[s("2010-11-30 23:59:59"), s("2010-12-31")]), "-31");
    assert_eq!(txt("makedate", &[i(2011), i(31)]), "2011-01-31");
    assert_eq!(txt("makedate", &[i(2011), i(32)]), "2011-02-01");
    assert_eq!(txt("makedate", &[i(2011), i(365)]), "2011-12-31");
    assert_eq!(txt("makedate", &[i(2024), i(400)]), "2025-02-03");
    assert!(ev("makedate", &[i(2011), i(0)]).is_null());
    assert!(ev("makedate", &[i(9999), i(i64::MAX)]).is_null());
}

#[test]
fn adddate_with_a_day_count_keeps_the_argument_kind() {
    assert_eq!(txt("adddate", &[s("2008-01-02"), i(31)]), "2008-02-02");
    assert!(matches!(ev("adddate", &[s("2008-01-02"), i(31)]), Value::Text(_)));
    assert!(matches!(ev("date_add", &[date("2008-01-02"), i(5)]), Value::Date(_)));
    assert_eq!(txt("subdate", &[date("2008-01-02"), i(31)]), "2007-12-02");
    assert_eq!(txt("date_sub", &[dtm("2008-01-02 10:00:00"), i(1)]), "2008-01-01 10:00:00");
    assert_eq!(txt("adddate", &[s("2008-01-02 10:00:00"), i(1)]), "2008-01-03 10:00:00");
    let (r, w) = run("adddate", &[date("9999-12-31"), i(1)]);
    assert_eq!(r, Ok(Value::Null));
    assert_eq!(w.len(), 1);
}

#[test]
fn add_interval_clamps_month_ends_and_handles_units() {
    let add = |d: Value, n: Value, unit, neg| add_interval(&d, &n, unit, neg).map(|v| v.to_text_lossy());
    assert_eq!(add(date("2024-01-31"), i(1), IntervalUnit::Month, false), Ok("2024-02-29".into()));
    assert_eq!(add(date("2024-03-31"), i(1), IntervalUnit::Month, true), Ok("2024-02-29".into()));
    assert_eq!(add(date("2024-02-29"), i(1), IntervalUnit::Year, false), Ok("2025-02-28".into()));
    assert_eq!(add(date("2024-01-31"), i(1), IntervalUnit::Quarter, false), Ok("2024-04-30".into()));
    assert_eq!(add(date("2024-01-31"), i(2), IntervalUnit::Week, false), Ok("2024-02-14".into()));
    assert_eq!(add(s("2018-05-01"), i(1), IntervalUnit::Day, false), Ok("2018-05-02".into()));
    assert_eq!(add(s("2020-12-31 23:59:59"), i(1), IntervalUnit::Second, false), Ok("2021-01-01 00:00:00".into()));
    assert_eq!(add(s("2018-12-31 23:59:59"), i(1), IntervalUnit::Day, false), Ok("2019-01-01 23:59:59".into()));
    assert_eq!(add(s("1900-01-01"), i(10), IntervalUnit::Day, true), Ok("1899-12-22".into()));
    assert_eq!(add(date("2024-01-01"), i(1), IntervalUnit::Hour, false), Ok("2024-01-01 01:00:00".into()));
    assert_eq!(
        add(dtm("2024-01-01 00:00:00"), dec("1.5"), IntervalUnit::Second, false),
        Ok("2024-01-01 00:00:01.500000".into())
    );
    assert_eq!(
        add(dtm("2024-01-01 00:00:00"), i(-1), IntervalUnit::Microsecond, false),
        Ok("2023-12-31 23:59:59.999999".into())
    );
    assert_eq!(add(dtm("2024-01-01 00:00:00"), i(90), IntervalUnit::Minute, false), Ok("2024-01-01 01:30:00".into()));
    assert_eq!(add(date("9999-12-31"), i(1), IntervalUnit::Day, false), Ok("NULL".into()));
    assert_eq!(add(date("2024-01-01"), i(i64::MAX), IntervalUnit::Year, false), Ok("NULL".into()));
    assert_eq!(add(date("2024-01-01"), i(i64::MIN), IntervalUnit::Week, true), Ok("NULL".into()));
    assert_eq!(add(N, i(1), IntervalUnit::Day, false), Ok("NULL".into()));
    assert_eq!(add(s("junk"), i(1), IntervalUnit::Day, false), Ok("NULL".into()));
    let mut w = Vec::new();
    let r = add_interval_with_warnings(&s("junk"), &i(1), IntervalUnit::Day, false, &mut w);
    assert_eq!(r, Ok(Value::Null));
    assert_eq!(w.len(), 1);
}

#[test]
fn interval_return_type_matches_add_interval_kinds() {
    let units = IntervalUnit::ALL;
    let samples = [
        (SqlType::Date, date("2024-01-31")),
        (SqlType::DateTime(0), dtm("2024-01-31 10:00:00")),
        (SqlType::Timestamp(3), dtm("2024-01-31 10:00:00.5")),
        (SqlType::Varchar(20), s("2024-01-31")),
        (SqlType::BIGINT, i(20240131)),
        (SqlType::Varbinary(20), b(b"2024-01-31 10:00:00")),
    ];
    for unit in units {
        for (ty, v) in &samples {
            let r = add_interval(v, &i(1), unit, false).expect("in range");
            assert_eq!(r.kind(), interval_return_type(*ty, unit).kind(), "{ty:?} {unit:?}");
        }
    }
}

#[test]
fn date_format_supports_mysql_specifiers() {
    assert_eq!(txt("date_format", &[s("2009-10-04 22:23:00"), s("%W %M %Y")]), "Sunday October 2009");
    assert_eq!(txt("date_format", &[s("2007-10-04 22:23:00"), s("%H:%i:%s")]), "22:23:00");
    assert_eq!(txt("date_format", &[s("1900-10-04 22:23:00"), s("%D %y %a %d %m %b %j")]), "4th 00 Thu 04 10 Oct 277");
    assert_eq!(
        txt("date_format", &[s("1997-10-04 22:23:00"), s("%H %k %I %r %T %S %w")]),
        "22 22 10 10:23:00 PM 22:23:00 00 6"
    );
    assert_eq!(txt("date_format", &[s("1999-01-01"), s("%X %V")]), "1998 52");
    assert_eq!(
        txt("date_format", &[dtm("2024-01-02 03:04:05.000006"), s("%f %e %c %l %p %% %q %")]),
        "000006 2 1 3 AM % q %"
    );
    assert_eq!(txt("date_format", &[date("2024-01-21"), s("%D %U %u %v %x")]), "21st 03 03 03 2024");
    assert!(ev("date_format", &[N, s("%Y")]).is_null());
    assert!(ev("date_format", &[s("2024-01-01"), N]).is_null());
}

#[test]
fn str_to_date_parses_common_specifiers() {
    assert_eq!(txt("str_to_date", &[s("01,5,2013"), s("%d,%m,%Y")]), "2013-05-01 00:00:00");
    assert_eq!(txt("str_to_date", &[s("May 1, 2013"), s("%M %d,%Y")]), "2013-05-01 00:00:00");
    assert_eq!(txt("str_to_date", &[s("Jan 5 24"), s("%b %e %y")]), "2024-01-05 00:00:00");
    assert_eq!(
        txt("str_to_date", &[s("2013-05-01 10:11:12.5"), s("%Y-%m-%d %H:%i:%s.%f")]),
        "2013-05-01 10:11:12.500000"
    );
    assert_eq!(txt("str_to_date", &[s("2013-05-01 10:11:12 PM"), s("%Y-%m-%d %r")]), "2013-05-01 22:11:12");
    assert_eq!(txt("str_to_date", &[s("12/31/2023 12:00 AM"), s("%m/%d/%Y %h:%i %p")]), "2023-12-31 00:00:00");
    assert_eq!(txt("str_to_date", &[s("2024 060"), s("%Y %j")]), "2024-02-29 00:00:00");
    let (r, w) = run("str_to_date", &[s("2024"), s("%Y")]);
    assert_eq!(r, Ok(Value::Null));
    assert_eq!(w[0].message, "Incorrect datetime value: '2024' for function str_to_date");
    assert!(ev("str_to_date", &[s("09:30:17a"), s("%h:%i:%s")]).is_null());
    assert!(ev("str_to_date", &[s("abc"), s("%Y")]).is_null());
    assert!(ev("str_to_date", &[s("2024-13-01"), s("%Y-%m-%d")]).is_null());
    assert_eq!(warning_codes("str_to_date", &[s("2024-01-01 junk"), s("%Y-%m-%d")]).len(), 1);
}

#[test]
fn str_to_date_with_a_date_only_format_specializes_to_date() {
    let fmt = s("%d,%m,%Y");
    let f = ScalarFunc::StrToDate.specialize(&[None, Some(&fmt)]);
    assert_eq!(f, ScalarFunc::StrToDateAsDate);
    assert_eq!(f.return_type(&[SqlType::Varchar(10), SqlType::Varchar(10)]), SqlType::Date);
    let mut warnings = Vec::new();
    let mut st = 0;
    let mut ctx =
        FuncCtx { now: now(), tz: &mizzle_types::TimeZone::utc(), warnings: &mut warnings, rand_state: &mut st };
    let v = f.eval(&[s("01,5,2013"), fmt.clone()], &mut ctx).expect("eval");
    assert_eq!(v.to_text_lossy(), "2013-05-01");
    let time_fmt = s("%Y-%m-%d %H");
    assert_eq!(ScalarFunc::StrToDate.specialize(&[None, Some(&time_fmt)]), ScalarFunc::StrToDate);
    assert_eq!(ScalarFunc::StrToDate.specialize(&[None, None]), ScalarFunc::StrToDate);
    assert_eq!(ScalarFunc::Abs.specialize(&[Some(&fmt)]), ScalarFunc::Abs);
}

// ---------------------------------------------------------------- misc

#[test]
fn uuid_has_version_4_layout_and_differs_per_call() {
    let mut warnings = Vec::new();
    let mut st = 1;
    let mut ctx =
        FuncCtx { now: now(), tz: &mizzle_types::TimeZone::utc(), warnings: &mut warnings, rand_state: &mut st };
    let a = ScalarFunc::Uuid.eval(&[], &mut ctx).expect("uuid").to_text_lossy();
    let b = ScalarFunc::Uuid.eval(&[], &mut ctx).expect("uuid").to_text_lossy();
    assert_ne!(a, b);
    assert_eq!(a.len(), 36);
    let chars: Vec<char> = a.chars().collect();
    for p in [8, 13, 18, 23] {
        assert_eq!(chars[p], '-');
    }
    assert_eq!(chars[14], '4');
    assert!(matches!(chars[19], '8' | '9' | 'a' | 'b'));
    assert!(a.chars().all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
}

#[test]
fn isnull_gives_one_or_zero() {
    assert!(matches!(ev("isnull", &[N]), Value::Int(1)));
    assert!(matches!(ev("isnull", &[i(2)]), Value::Int(0)));
    assert!(matches!(ev("isnull", &[s("")]), Value::Int(0)));
}

// ---------------------------------------------------------------- sweeps

/// One value of every kind, with awkward ones: extremes, empty text,
/// invalid UTF-8, date limits.
fn awkward_values() -> Vec<Value> {
    vec![
        N,
        i(-3),
        i(0),
        i(i64::MIN),
        i(i64::MAX),
        u(u64::MAX),
        Value::Float(-1.5),
        f(1e300),
        f(-0.0),
        dec("-2.5"),
        dec("99999999999999999999999999999999999999"),
        s(""),
        s("héllo"),
        s("2024-02-29 10:20:30.5"),
        s("%Y-%m-%d %H:%i:%s %p %r %T %j %D %%"),
        b(&[0xFF, 0x00]),
        date("0001-01-01"),
        date("9999-12-31"),
        dtm("9999-12-31 23:59:59.999999"),
        json(r#"{"a": [1, "x", {"b": null}], "c": 18446744073709551615}"#),
        // A damaged stored document: functions report it, never panic.
        Value::Json(std::sync::Arc::from(vec![1u8, 0x0A, 0xFF, 0xFF, 0xFF, 0x7F, 9, 0, 0, 0])),
    ]
}

fn json(text: &str) -> Value {
    Value::json(&mizzle_types::json::text::parse(text).expect("valid JSON"))
}

/// Calls `visit` with every combination of `pool` of length `n`.
fn for_each_combination<T: Clone>(pool: &[T], n: usize, visit: &mut dyn FnMut(&[T])) {
    fn go<T: Clone>(pool: &[T], n: usize, cur: &mut Vec<T>, visit: &mut dyn FnMut(&[T])) {
        if cur.len() == n {
            visit(cur);
            return;
        }
        for v in pool {
            cur.push(v.clone());
            go(pool, n, cur, visit);
            cur.pop();
        }
    }
    go(pool, n, &mut Vec::with_capacity(n), visit);
}

fn arities(f: ScalarFunc) -> std::ops::RangeInclusive<usize> {
    let (min, max) = f.arity();
    let top = max.unwrap_or(min + 2).min(min + 2).min(4).max(min);
    min..=top
}

fn functions() -> Vec<ScalarFunc> {
    ScalarFunc::ALL.to_vec()
}

#[test]
fn no_function_panics_on_any_argument_kind() {
    let pool = awkward_values();
    let mut calls = 0usize;
    for f in functions() {
        for n in arities(f) {
            // Four-argument sweeps over the whole pool are slow; a subset keeps every kind.
            let pool: Vec<Value> = if n >= 4 { pool.iter().step_by(2).cloned().collect() } else { pool.clone() };
            for_each_combination(&pool, n, &mut |args| {
                let mut warnings = Vec::new();
                let mut st = 9;
                let mut ctx = FuncCtx {
                    now: now(),
                    tz: &mizzle_types::TimeZone::utc(),
                    warnings: &mut warnings,
                    rand_state: &mut st,
                };
                let _ = f.eval(args, &mut ctx);
                calls += 1;
            });
        }
    }
    assert!(calls > 100_000, "only {calls} calls");
}

/// Typical (type, value) pairs: each value has its type's kind.
fn typed_samples() -> Vec<(SqlType, Value)> {
    vec![
        (SqlType::Null, N),
        (SqlType::Bool, i(1)),
        (SqlType::BIGINT, i(7)),
        (SqlType::Int { width: IntWidth::Int, unsigned: true }, u(7)),
        (SqlType::Float, Value::Float(2.5)),
        (SqlType::Double, f(2.5)),
        (SqlType::Decimal { precision: 10, scale: 2 }, dec("12.34")),
        (SqlType::Varchar(20), s("2024-02-29")),
        (SqlType::LONGTEXT, s("3")),
        (SqlType::Varchar(8), s("YWJj")),
        (SqlType::Varchar(8), s("%Y-%m-%d")),
        (SqlType::Varbinary(20), b(b"2024-02-29 10:20:30")),
        // An early date keeps its number (YYYYMMDD) small where it is read as
        // a count (REPEAT, LPAD), so the sweep stays fast.
        (SqlType::Date, date("0012-02-29")),
        (SqlType::DateTime(0), dtm("2024-02-29 10:20:30")),
        (SqlType::Timestamp(6), dtm("2024-02-29 10:20:30.25")),
        // A path, a one-or-all word and a document for the JSON functions.
        (SqlType::Varchar(8), s("$[1]")),
        (SqlType::Varchar(8), s("one")),
        // A time zone for CONVERT_TZ.
        (SqlType::Varchar(8), s("+01:00")),
        (SqlType::Json, json(r#"["3", {"a": 1}]"#)),
    ]
}

#[test]
fn eval_returns_the_kind_return_type_promises() {
    let pool = typed_samples();
    let mut checked = 0usize;
    for f in functions() {
        for n in arities(f) {
            for_each_combination(&pool, n, &mut |combo| {
                let types: Vec<SqlType> = combo.iter().map(|(t, _)| *t).collect();
                let values: Vec<Value> = combo.iter().map(|(_, v)| v.clone()).collect();
                let ty = f.return_type(&types);
                let mut warnings = Vec::new();
                let mut st = 9;
                let mut ctx = FuncCtx {
                    now: now(),
                    tz: &mizzle_types::TimeZone::utc(),
                    warnings: &mut warnings,
                    rand_state: &mut st,
                };
                if let Ok(v) = f.eval(&values, &mut ctx) {
                    if !v.is_null() {
                        checked += 1;
                        assert_eq!(
                            v.kind(),
                            ty.kind(),
                            "{}({values:?}) with types {types:?} gave {v:?}, promised {ty:?}",
                            f.name()
                        );
                    }
                }
            });
        }
    }
    assert!(checked > 10_000, "only {checked} non-NULL results checked");
}

#[test]
fn every_function_gives_a_non_null_result_for_some_typical_arguments() {
    let pool = typed_samples();
    for f in functions() {
        let mut any = false;
        for n in arities(f) {
            for_each_combination(&pool, n, &mut |combo| {
                let values: Vec<Value> = combo.iter().map(|(_, v)| v.clone()).collect();
                let mut warnings = Vec::new();
                let mut st = 9;
                let mut ctx = FuncCtx {
                    now: now(),
                    tz: &mizzle_types::TimeZone::utc(),
                    warnings: &mut warnings,
                    rand_state: &mut st,
                };
                if matches!(f.eval(&values, &mut ctx), Ok(v) if !v.is_null()) {
                    any = true;
                }
            });
        }
        assert!(any, "{} never returned a value", f.name());
    }
}

#[test]
fn clock_functions_follow_the_session_time_zone() {
    let tz = mizzle_types::TimeZone::parse("+05:30").expect("zone");
    let mut warnings = Vec::new();
    let mut st = 9;
    let mut ctx = FuncCtx { now: now(), tz: &tz, warnings: &mut warnings, rand_state: &mut st };
    let call = |name: &str, args: &[Value], ctx: &mut FuncCtx<'_>| {
        lookup(name).expect("known").eval(args, ctx).expect("evaluates").to_text_lossy()
    };
    let utc = call("utc_timestamp", &[i(6)], &mut ctx);
    let local = call("now", &[i(6)], &mut ctx);
    assert_eq!(now().to_string(), utc);
    assert_eq!(DateTime::from_unix_micros(now().unix_micros() + 19_800_000_000).map(|d| d.to_string()), Some(local));
    assert_eq!(call("from_unixtime", &[i(0)], &mut ctx), "1970-01-01 05:30:00");
    assert_eq!(call("unix_timestamp", &[s("1970-01-01 05:30:01")], &mut ctx), "1");
    assert_eq!(
        call("convert_tz", &[s("2024-01-01 00:00:00"), s("+00:00"), s("Europe/Paris")], &mut ctx),
        "2024-01-01 01:00:00"
    );
    assert_eq!(
        lookup("convert_tz").expect("known").eval(&[s("2024-01-01"), s("+00:00"), s("Nowhere")], &mut ctx),
        Ok(N)
    );
}
