//! A small Rust lexer that splits a source file into code and string
//! literals, dropping comments, so source checks look only at what they mean
//! to look at.
//!
//! Invariants:
//! 1. [`Lexed::code`] has exactly the line structure of the input: comments
//!    become spaces, string and char literals keep their quotes but lose
//!    their contents (newlines inside them are kept), so line numbers agree.
//! 2. Every string literal (plain, byte, C and raw) appears once in
//!    [`Lexed::strings`], with escapes left as written.
//!
//! It does not parse Rust: it knows comments (nested block comments too),
//! string, raw string and char literals, and tells lifetimes from chars by
//! shape. Code it cannot lex (an unterminated literal) ends the file early,
//! which only makes checks see less.

/// One string literal: the line it starts on (1-based) and its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringLiteral {
    /// The 1-based line of the opening quote.
    pub line: usize,
    /// The characters between the quotes, escapes as written.
    pub text: String,
}

/// A source file with comments removed and literals set aside.
#[derive(Debug, Clone, Default)]
pub struct Lexed {
    /// The code, comments blanked and literal contents removed.
    pub code: String,
    /// Every string literal, in order.
    pub strings: Vec<StringLiteral>,
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Lexes `source` (see the module docs for what that means here).
pub fn lex(source: &str) -> Lexed {
    let s: Vec<char> = source.chars().collect();
    let at = |i: usize| s.get(i).copied();
    let mut out = Lexed::default();
    let mut line = 1;
    let mut i = 0;
    while let Some(c) = at(i) {
        let next = at(i + 1);
        let prev_is_ident = i > 0 && at(i - 1).is_some_and(is_ident_char);
        let raw = if !prev_is_ident && matches!(c, 'r' | 'b' | 'c') { raw_string_start(&s, i) } else { None };
        if c == '/' && next == Some('/') {
            while at(i).is_some_and(|c| c != '\n') {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0usize;
            while let Some(c) = at(i) {
                if c == '/' && at(i + 1) == Some('*') {
                    depth += 1;
                    i += 2;
                } else if c == '*' && at(i + 1) == Some('/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c == '\n' {
                        out.code.push('\n');
                        line += 1;
                    }
                    i += 1;
                }
            }
            out.code.push(' ');
        } else if let Some((hashes, open)) = raw {
            let start_line = line;
            let mut text = String::new();
            i = open + 1;
            out.code.push_str("\"\"");
            while let Some(c) = at(i) {
                if c == '"' && (1..=hashes).all(|k| at(i + k) == Some('#')) {
                    i += hashes + 1;
                    break;
                }
                if c == '\n' {
                    out.code.push('\n');
                    line += 1;
                }
                text.push(c);
                i += 1;
            }
            out.strings.push(StringLiteral { line: start_line, text });
        } else if c == '"' || (!prev_is_ident && matches!(c, 'b' | 'c') && next == Some('"')) {
            let start_line = line;
            let mut text = String::new();
            i += if c == '"' { 1 } else { 2 };
            out.code.push_str("\"\"");
            while let Some(c) = at(i) {
                if c == '"' {
                    i += 1;
                    break;
                }
                if c == '\n' {
                    out.code.push('\n');
                    line += 1;
                }
                text.push(c);
                if c == '\\' {
                    if let Some(escaped) = at(i + 1) {
                        if escaped == '\n' {
                            out.code.push('\n');
                            line += 1;
                        }
                        text.push(escaped);
                        i += 1;
                    }
                }
                i += 1;
            }
            out.strings.push(StringLiteral { line: start_line, text });
        } else if c == '\'' && next == Some('\\') {
            // An escaped char literal: '\n', '\'', '\u{1F600}'.
            i += 3;
            while at(i).is_some_and(|c| c != '\'' && c != '\n') {
                i += 1;
            }
            i += 1;
            out.code.push_str("' '");
        } else if c == '\'' && at(i + 2) == Some('\'') {
            i += 3;
            out.code.push_str("' '");
        } else {
            // Ordinary code, including a lifetime or label's quote.
            if c == '\n' {
                line += 1;
            }
            out.code.push(c);
            i += 1;
        }
    }
    out
}

/// If a raw string (`r"`, `r#"`, `br##"`, `cr"` …) starts at `i`, returns the
/// number of `#`s and the index of the opening quote. `r#ident` (a raw
/// identifier) is not a raw string.
fn raw_string_start(s: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if matches!(s.get(j), Some('b' | 'c')) {
        j += 1;
    }
    if s.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while s.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (s.get(j) == Some(&'"')).then_some((hashes, j))
}

/// Byte offsets in `code` where the whole word `word` occurs (not as part of
/// a longer identifier).
pub fn find_word(code: &str, word: &str) -> Vec<usize> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(rel) = code[from..].find(word) {
        let start = from + rel;
        let end = start + word.len();
        let before_ok = code[..start].chars().next_back().is_none_or(|c| !is_ident_char(c));
        let after_ok = code[end..].chars().next().is_none_or(|c| !is_ident_char(c));
        if before_ok && after_ok {
            found.push(start);
        }
        from = end;
    }
    found
}

/// The 1-based line number of byte offset `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_blanked_and_lines_kept() {
        let l = lex("a // unsafe\n/* x\n /* nested */ unsafe */ b\nc");
        assert_eq!(find_word(&l.code, "unsafe"), Vec::<usize>::new());
        assert_eq!(l.code.lines().count(), 4);
        assert!(l.code.lines().nth(2).is_some_and(|s| s.contains('b')));
    }

    #[test]
    fn string_literals_are_set_aside_with_their_line() {
        let l = lex("let a = \"x\\\"y\";\nlet b = r#\"say \"hi\"\"#; let c = b\"by\";\n\"multi\nline\" d");
        let texts: Vec<_> = l.strings.iter().map(|s| (s.line, s.text.as_str())).collect();
        assert_eq!(texts, vec![(1, "x\\\"y"), (2, "say \"hi\""), (2, "by"), (3, "multi\nline")]);
        assert!(l.code.contains("let b = \"\";"));
        assert_eq!(line_of(&l.code, l.code.find(" d").unwrap_or(0)), 4);
    }

    #[test]
    fn chars_and_lifetimes_are_told_apart() {
        let l = lex("fn f<'a>(x: &'a str) -> char { let q = '\"'; let e = '\\''; '{' }\n\"s\"");
        assert_eq!(l.strings, vec![StringLiteral { line: 2, text: "s".into() }]);
        assert!(l.code.contains("<'a>"));
        assert_eq!(l.code.matches('{').count(), 1);
    }

    #[test]
    fn raw_identifiers_are_code() {
        let l = lex("let r#type = 1; br##\"a\"#b\"##");
        assert!(l.code.contains("r#type"));
        assert_eq!(l.strings[0].text, "a\"#b");
    }

    #[test]
    fn find_word_respects_identifier_boundaries() {
        assert_eq!(find_word("unsafe_code unsafe{ xunsafe (unsafe)", "unsafe"), vec![12, 29]);
    }
}
