//! LOAD DATA: reading a file's lines and fields as MySQL does
//! ([`FieldReader`]) and inserting a row per line ([`load`]).
//!
//! Invariants:
//! 1. The file is read in chunks of [`CHUNK`] bytes and one line's fields
//!    at a time; nothing else of it is held, so memory does not grow with
//!    the file (the transaction's own write set does, as for any INSERT).
//! 2. Fields are cut as MySQL's `READ_INFO` does: a field that begins with
//!    the ENCLOSED BY character runs to that character followed by a
//!    terminator (a doubled enclosing character is one of it); the ESCAPED
//!    BY character makes the next one literal (`\0 \b \n \r \t \Z` are
//!    NUL, backspace, newline, carriage return, tab and Ctrl-Z); a field
//!    that is exactly `\N` is NULL, and so is an unenclosed `NULL` when
//!    ENCLOSED BY is set.
//! 3. Rows go through the same writer as INSERT (`dml::RowWriter`), so keys,
//!    defaults, CHECKs, foreign keys and lock waits behave as for INSERT.

use std::io::Read;

use mizzle_dictionary::ColumnDef;
use mizzle_sql::load::LoadFormat;
use mizzle_sql::plan::LoadPlan;
use mizzle_types::{ErrorCode, SqlError, SqlType, TypeError, Value, Warning};

use crate::ctx::Ctx;
use crate::dml::RowWriter;
use crate::error::ExecError;
use crate::eval::eval;

/// Bytes read from the file at a time.
pub const CHUNK: usize = 64 * 1024;

/// What a LOAD DATA did, for its OK packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadResult {
    /// Affected rows (inserted, plus replaced ones deleted).
    pub affected: u64,
    /// Lines read as records.
    pub records: u64,
    /// Rows deleted by REPLACE.
    pub deleted: u64,
    /// Lines skipped (IGNORE or LOCAL and a duplicate key).
    pub skipped: u64,
    /// The first AUTO_INCREMENT value generated.
    pub last_insert_id: Option<u64>,
}

/// How a field ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Field,
    Line,
    Eof,
}

/// Cuts a byte stream into records of fields (invariant 2).
pub struct FieldReader<R: Read> {
    src: R,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    f: LoadFormat,
}

fn unescape(c: u8) -> u8 {
    match c {
        b'0' => 0,
        b'b' => 8,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'Z' => 26,
        other => other,
    }
}

impl<R: Read> FieldReader<R> {
    /// A reader of `src` in format `f`.
    pub fn new(src: R, f: LoadFormat) -> FieldReader<R> {
        FieldReader { src, buf: Vec::with_capacity(CHUNK), pos: 0, eof: false, f }
    }

    /// Makes at least `n` unread bytes available unless the input ends.
    fn fill(&mut self, n: usize) -> std::io::Result<()> {
        while self.buf.len() - self.pos < n && !self.eof {
            if self.pos > 0 {
                self.buf.drain(..self.pos);
                self.pos = 0;
            }
            let at = self.buf.len();
            self.buf.resize(at + CHUNK, 0);
            let got = loop {
                match self.src.read(&mut self.buf[at..]) {
                    Ok(k) => break k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.buf.truncate(at);
                        return Err(e);
                    }
                }
            };
            self.buf.truncate(at + got);
            if got == 0 {
                self.eof = true;
            }
        }
        Ok(())
    }

    fn at_end(&mut self) -> std::io::Result<bool> {
        self.fill(1)?;
        Ok(self.pos >= self.buf.len())
    }

    fn peek(&mut self) -> std::io::Result<Option<u8>> {
        self.fill(1)?;
        Ok(self.buf.get(self.pos).copied())
    }

    fn next(&mut self) -> std::io::Result<Option<u8>> {
        let c = self.peek()?;
        if c.is_some() {
            self.pos += 1;
        }
        Ok(c)
    }

    /// True (and consumed) if the input continues with `pat` (non-empty).
    fn eat(&mut self, pat: &[u8]) -> std::io::Result<bool> {
        if pat.is_empty() {
            return Ok(false);
        }
        self.fill(pat.len())?;
        if self.buf[self.pos..].starts_with(pat) {
            self.pos += pat.len();
            return Ok(true);
        }
        Ok(false)
    }

    /// A terminator at the current position, consumed: the longer one is
    /// tried first when one is a prefix of the other.
    fn terminator(&mut self) -> std::io::Result<Option<End>> {
        let (ft, lt) = (self.f.field_term.clone(), self.f.line_term.clone());
        if lt.len() >= ft.len() {
            if self.eat(&lt)? {
                return Ok(Some(End::Line));
            }
            if self.eat(&ft)? {
                return Ok(Some(End::Field));
            }
        } else {
            if self.eat(&ft)? {
                return Ok(Some(End::Field));
            }
            if self.eat(&lt)? {
                return Ok(Some(End::Line));
            }
        }
        Ok(None)
    }

    /// Skips `n` lines (IGNORE n LINES).
    pub fn skip_lines(&mut self, n: u64) -> std::io::Result<()> {
        let lt = self.f.line_term.clone();
        for _ in 0..n {
            loop {
                if self.eat(&lt)? {
                    break;
                }
                if self.next()?.is_none() {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// The next record: one entry per field, `None` for NULL; `None` at
    /// the end of the input.
    pub fn record(&mut self) -> std::io::Result<Option<Vec<Option<Vec<u8>>>>> {
        if self.at_end()? {
            return Ok(None);
        }
        if !self.f.line_start.is_empty() {
            let ls = self.f.line_start.clone();
            loop {
                if self.eat(&ls)? {
                    break;
                }
                if self.next()?.is_none() {
                    return Ok(None);
                }
            }
        }
        let mut fields = Vec::new();
        loop {
            let (v, end) = self.field()?;
            fields.push(v);
            if end != End::Field {
                break;
            }
        }
        Ok(Some(fields))
    }

    fn field(&mut self) -> std::io::Result<(Option<Vec<u8>>, End)> {
        let esc = self.f.escaped;
        let mut v = Vec::new();
        if let Some(q) = self.f.enclosed {
            if self.peek()? == Some(q) {
                self.pos += 1;
                loop {
                    let Some(c) = self.next()? else { return Ok((Some(v), End::Eof)) };
                    if Some(c) == esc {
                        match self.next()? {
                            Some(x) => v.push(unescape(x)),
                            None => v.push(c),
                        }
                        continue;
                    }
                    if c == q {
                        if self.peek()? == Some(q) {
                            self.pos += 1;
                            v.push(q);
                            continue;
                        }
                        if let Some(end) = self.terminator()? {
                            return Ok((Some(v), end));
                        }
                        if self.at_end()? {
                            return Ok((Some(v), End::Eof));
                        }
                    }
                    v.push(c);
                }
            }
        }
        let mut escaped = false;
        let end = loop {
            if let Some(end) = self.terminator()? {
                break end;
            }
            let Some(c) = self.next()? else { break End::Eof };
            if Some(c) == esc {
                match self.next()? {
                    Some(b'N') if v.is_empty() && !escaped => {
                        // `\N` alone is NULL; followed by more it is "N...".
                        if let Some(end) = self.terminator()? {
                            return Ok((None, end));
                        }
                        if self.at_end()? {
                            return Ok((None, End::Eof));
                        }
                        v.push(b'N');
                    }
                    Some(x) => v.push(unescape(x)),
                    None => v.push(c),
                }
                escaped = true;
                continue;
            }
            v.push(c);
        };
        if self.f.enclosed.is_some() && !escaped && v == b"NULL" {
            return Ok((None, end));
        }
        Ok((Some(v), end))
    }
}

fn io_error(e: std::io::Error) -> ExecError {
    ExecError::Io(e.to_string())
}

/// The value a field gives a column: bytes for binary columns, text
/// (which must be UTF-8: 1366 otherwise) for the rest.
fn field_value(b: Vec<u8>, ty: Option<SqlType>, column: &str, row: u64) -> Result<Value, ExecError> {
    if matches!(ty, Some(SqlType::Binary(_) | SqlType::Varbinary(_) | SqlType::Blob(_))) {
        return Ok(Value::Bytes(b.into()));
    }
    match String::from_utf8(b) {
        Ok(s) => Ok(Value::Text(s.into())),
        Err(e) => {
            let bytes = e.into_bytes();
            let bad = std::str::from_utf8(&bytes).map_err(|x| x.valid_up_to()).err().unwrap_or(0);
            let hex: String = bytes[bad..].iter().take(6).map(|x| format!("\\x{x:02X}")).collect();
            Err(ExecError::Type(TypeError::IncorrectValue {
                ty: "string",
                value: hex,
                column: column.to_string(),
                row,
            }))
        }
    }
}

/// A value that failed to convert for `col`, adjusted as MySQL does
/// without strict mode (LOAD DATA with IGNORE or LOCAL): the warning is
/// recorded and the value is what CAST gives; if even that does not fit,
/// NULL for a nullable column, else the error stands.
pub(crate) fn lenient_value(v: &Value, col: &ColumnDef, err: TypeError, ctx: &mut Ctx<'_>) -> Result<Value, ExecError> {
    if let SqlType::Timestamp(fsp) = col.ty {
        // A local time in a daylight-saving gap is stored as the gap's end
        // with warning 1299, as MySQL does outside strict mode.
        if let Some((utc, true)) = mizzle_types::cast::cast_timestamp(v, fsp, ctx.session.time_zone) {
            ctx.warn(Warning::new(
                mizzle_types::ErrorCode::InvalidTimestamp,
                format!("Invalid TIMESTAMP value in column '{}' at row {}", col.name, err_row(&err)),
            ));
            return Ok(Value::DateTime(utc));
        }
    }
    let cast = mizzle_types::cast::cast(v, col.ty).value;
    let target = mizzle_types::cast::Target { column: &col.name, row: 0 };
    let fixed = match mizzle_types::cast::assign(&cast, col.ty, &target) {
        Ok(x) if !x.is_null() || col.nullable => x,
        _ if col.nullable => Value::Null,
        _ => return Err(err.into()),
    };
    ctx.warn(Warning::new(err.code(), err.to_string()));
    Ok(fixed)
}

/// The row number a conversion error names (0 if none).
fn err_row(e: &TypeError) -> u64 {
    match e {
        TypeError::IncorrectTemporal { row, .. } => *row,
        _ => 0,
    }
}

/// Runs a bound LOAD DATA over `src`, the file's bytes.
pub fn load(p: &LoadPlan, src: Box<dyn Read + '_>, ctx: &mut Ctx<'_>) -> Result<LoadResult, ExecError> {
    let strict = ctx.strict;
    ctx.strict = true;
    let r = load_inner(p, src, ctx);
    ctx.strict = strict;
    r
}

fn load_inner(p: &LoadPlan, src: Box<dyn Read + '_>, ctx: &mut Ctx<'_>) -> Result<LoadResult, ExecError> {
    let ins = &p.insert;
    let t = &ins.table;
    let ncols = t.columns.len();
    let lenient = p.local || ins.ignore;
    let mut reader = FieldReader::new(src, p.format.clone());
    reader.skip_lines(p.ignore_lines).map_err(io_error)?;
    let mut w = RowWriter::new(ins, t, ctx);
    w.lenient = lenient;
    let not_converted = vec![false; ncols];
    let nfields = p.fields.len();
    let mut out = LoadResult::default();
    let mut scope: Vec<Value> = Vec::with_capacity(nfields);
    while let Some(rec) = reader.record().map_err(io_error)? {
        out.records += 1;
        let rown = out.records;
        if rown % 256 == 0 {
            ctx.check_stop()?;
        }
        if rec.len() < nfields && !(nfields == 1 && rec.len() == 1) {
            let msg = format!("Row {rown} doesn't contain data for all columns");
            if !lenient {
                return Err(ExecError::Load { code: ErrorCode::WarnTooFewRecords, message: msg });
            }
            ctx.warn(Warning::new(ErrorCode::WarnTooFewRecords, msg));
        } else if rec.len() > nfields {
            let msg = format!("Row {rown} was truncated; it contained more data than there were input columns");
            if !lenient {
                return Err(ExecError::Load { code: ErrorCode::WarnTooManyRecords, message: msg });
            }
            ctx.warn(Warning::new(ErrorCode::WarnTooManyRecords, msg));
        }
        let mut row = vec![Value::Null; ncols];
        let mut given = vec![false; ncols];
        scope.clear();
        let mut fields = rec.into_iter();
        for target in &p.fields {
            let v = match fields.next() {
                Some(Some(b)) => {
                    let (ty, name) = match target {
                        Some(pos) => {
                            let c = &t.columns[ins.columns[*pos]];
                            (Some(c.ty), c.name.as_str())
                        }
                        None => (None, ""),
                    };
                    Some(field_value(b, ty, name, rown)?)
                }
                Some(None) => Some(Value::Null),
                None => None,
            };
            if let (Some(pos), Some(v)) = (target, &v) {
                let c = ins.columns[*pos];
                row[c] = v.clone();
                given[c] = true;
            }
            scope.push(v.unwrap_or(Value::Null));
        }
        for (k, e) in p.sets.iter().enumerate() {
            let c = ins.columns[p.fields.iter().flatten().count() + k];
            row[c] = eval(e, &scope, ctx)?;
            given[c] = true;
        }
        let before = w.res.affected;
        w.write(row, &given, &not_converted, rown, ctx)?;
        match w.res.affected - before {
            0 => out.skipped += 1,
            n => out.deleted += n - 1,
        }
    }
    out.affected = w.res.affected;
    out.last_insert_id = w.res.last_insert_id;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(data: &[u8], f: LoadFormat) -> Vec<Vec<Option<String>>> {
        let mut r = FieldReader::new(data, f);
        let mut out = Vec::new();
        while let Some(rec) = r.record().unwrap() {
            out.push(rec.into_iter().map(|x| x.map(|b| String::from_utf8(b).unwrap())).collect());
        }
        out
    }

    fn s(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    #[test]
    fn tab_separated_with_escapes_and_nulls() {
        let got = read(b"1\ta\\tb\t\\N\n2\tx\\\\y\tN\n3\t\\Nx\t\n", LoadFormat::default());
        assert_eq!(
            got,
            vec![vec![s("1"), s("a\tb"), None], vec![s("2"), s("x\\y"), s("N")], vec![s("3"), s("Nx"), s("")],]
        );
    }

    #[test]
    fn csv_with_enclosures() {
        let f = LoadFormat {
            field_term: b",".to_vec(),
            enclosed: Some(b'"'),
            line_term: b"\r\n".to_vec(),
            ..LoadFormat::default()
        };
        let got =
            read(b"1,\"a,b\",\"say \"\"hi\"\"\"\r\n2,NULL,\"NULL\"\r\n3,\"x\"y\",\\\"q\r\n4,\"multi\r\nline\"", f);
        assert_eq!(
            got,
            vec![
                vec![s("1"), s("a,b"), s("say \"hi\"")],
                vec![s("2"), None, s("NULL")],
                vec![s("3"), s("x\"y"), s("\"q")],
                vec![s("4"), s("multi\r\nline")],
            ]
        );
    }

    #[test]
    fn line_prefixes_ignore_lines_and_no_escapes() {
        let f = LoadFormat {
            field_term: b"|".to_vec(),
            escaped: None,
            line_start: b"xx".to_vec(),
            ..LoadFormat::default()
        };
        let mut r = FieldReader::new(&b"header\nxx1|a\\n\nskipped\nabcxx2|b\n"[..], f);
        r.skip_lines(1).unwrap();
        let mut got = Vec::new();
        while let Some(rec) = r.record().unwrap() {
            got.push(rec);
        }
        assert_eq!(
            got,
            vec![vec![Some(b"1".to_vec()), Some(b"a\\n".to_vec())], vec![Some(b"2".to_vec()), Some(b"b".to_vec())]]
        );
    }

    #[test]
    fn reads_across_chunk_boundaries_in_bounded_memory() {
        // Lines straddle the 64 KiB chunks; the buffer never holds more
        // than a chunk plus the unread rest of one line (invariant 1).
        let mut data = Vec::new();
        for i in 0..50_000 {
            data.extend_from_slice(format!("{i}\tvalue number {i}\n").as_bytes());
        }
        let mut r = FieldReader::new(&data[..], LoadFormat::default());
        let mut n = 0;
        while let Some(rec) = r.record().unwrap() {
            assert_eq!(rec[0].as_deref(), Some(n.to_string().as_bytes()));
            assert!(r.buf.capacity() <= 4 * CHUNK);
            n += 1;
        }
        assert_eq!(n, 50_000);
    }

    #[test]
    fn last_line_without_terminator_and_empty_input() {
        assert_eq!(read(b"a\tb", LoadFormat::default()), vec![vec![s("a"), s("b")]]);
        assert!(read(b"", LoadFormat::default()).is_empty());
        assert_eq!(read(b"\n", LoadFormat::default()), vec![vec![s("")]]);
    }
}
