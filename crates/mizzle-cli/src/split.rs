//! The statement splitter: turns lines of shell input into complete SQL
//! statements, the way the `mysql` client does.
//!
//! Input arrives one line at a time (interactive typing or a script), and a
//! statement may span lines. A statement ends at `;`, `\g` or `\G` (the
//! last asks for vertical output) when that terminator is outside quotes and
//! comments; `\c` discards the statement typed so far.
//!
//! Invariants:
//! 1. A terminator inside `'...'`, `"..."` (where `\` escapes the next
//!    character and a doubled quote is a quote) or `` `...` `` (doubled
//!    backtick), or inside a `-- `, `#` or `/* */` comment, never ends a
//!    statement.
//! 2. Comments are removed from the statement text, as the `mysql` client
//!    does by default, except `/*! ... */` and `/*+ ... */`, which carry
//!    meaning for the server and are kept verbatim.
//! 3. A statement holding nothing but whitespace and comments is never
//!    emitted (`;;` runs nothing).
//! 4. Line numbers are 1-based and name the line where a statement's first
//!    significant character is.
//!
//! It does not understand `DELIMITER`, and it does not validate SQL: the
//! engine reports syntax errors.

/// One complete statement taken from the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The SQL text without its terminator and without comments.
    pub sql: String,
    /// True when the statement ended with `\G`: show rows vertically.
    pub vertical: bool,
    /// The input line (1-based) where the statement begins.
    pub line: usize,
}

/// Where the splitter is inside the current statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Plain SQL text.
    Normal,
    /// Inside a quoted string or identifier opened by this character.
    Quote(char),
    /// Inside `/* ... */`; `keep` for `/*!` and `/*+`, which stay in the text.
    BlockComment { keep: bool },
    /// Inside `-- ...` or `# ...`, until the end of the line.
    LineComment,
}

/// Accumulates input lines and yields complete statements.
#[derive(Debug)]
pub struct Splitter {
    buf: String,
    state: State,
    /// The current statement has something besides whitespace and comments.
    has_content: bool,
    /// The line where the current statement's content began.
    start_line: usize,
    /// Number of lines pushed so far.
    line: usize,
}

impl Default for Splitter {
    fn default() -> Self {
        Splitter::new()
    }
}

impl Splitter {
    /// An empty splitter at line 0.
    pub fn new() -> Splitter {
        Splitter { buf: String::new(), state: State::Normal, has_content: false, start_line: 0, line: 0 }
    }

    /// True while a statement is partly typed: it has content, or a quote or
    /// block comment is open. The shell then shows the continuation prompt.
    pub fn is_pending(&self) -> bool {
        self.has_content || matches!(self.state, State::Quote(_) | State::BlockComment { .. })
    }

    /// What is open at the end of the input so far, for the continuation
    /// prompt: the quote character, `/*` for a comment, or nothing.
    pub fn open_delimiter(&self) -> Option<&'static str> {
        match self.state {
            State::Quote('\'') => Some("'"),
            State::Quote('"') => Some("\""),
            State::Quote(_) => Some("`"),
            State::BlockComment { .. } => Some("/*"),
            State::Normal | State::LineComment => None,
        }
    }

    /// Forgets the partly typed statement (the `\c` command or Ctrl-C).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.state = State::Normal;
        self.has_content = false;
    }

    /// Adds one line of input (without its line terminator) and returns the
    /// statements it completed, in order.
    pub fn push_line(&mut self, line: &str) -> Vec<Statement> {
        self.line += 1;
        let mut done = Vec::new();
        let mut chars = line.chars().chain(std::iter::once('\n')).peekable();
        while let Some(c) = chars.next() {
            match self.state {
                State::Normal => match c {
                    '\'' | '"' | '`' => {
                        self.mark_content();
                        self.buf.push(c);
                        self.state = State::Quote(c);
                    }
                    '#' => self.state = State::LineComment,
                    '-' if chars.peek() == Some(&'-') => {
                        // MySQL needs whitespace (or the end of the line)
                        // after `--` for a comment; `1--2` is arithmetic.
                        let mut ahead = chars.clone();
                        ahead.next();
                        if ahead.peek().is_none_or(|n| n.is_whitespace()) {
                            chars.next();
                            self.state = State::LineComment;
                        } else {
                            self.mark_content();
                            self.buf.push(c);
                        }
                    }
                    '/' if chars.peek() == Some(&'*') => {
                        chars.next();
                        let keep = matches!(chars.peek(), Some('!') | Some('+'));
                        if keep {
                            self.mark_content();
                            self.buf.push_str("/*");
                        } else {
                            // Keeps the tokens on either side apart.
                            self.buf.push(' ');
                        }
                        self.state = State::BlockComment { keep };
                    }
                    ';' => self.end_statement(false, &mut done),
                    '\\' => match chars.peek() {
                        Some('G') => {
                            chars.next();
                            self.end_statement(true, &mut done);
                        }
                        Some('g') => {
                            chars.next();
                            self.end_statement(false, &mut done);
                        }
                        Some('c') => {
                            chars.next();
                            self.clear();
                        }
                        _ => {
                            self.mark_content();
                            self.buf.push(c);
                        }
                    },
                    c if c.is_whitespace() => self.buf.push(c),
                    c => {
                        self.mark_content();
                        self.buf.push(c);
                    }
                },
                State::Quote(q) => {
                    self.buf.push(c);
                    if c == '\\' && q != '`' {
                        if let Some(escaped) = chars.next() {
                            self.buf.push(escaped);
                        }
                    } else if c == q {
                        // A doubled quote closes and at once reopens, which
                        // is the same as staying inside.
                        self.state = State::Normal;
                    }
                }
                State::BlockComment { keep } => {
                    if c == '*' && chars.peek() == Some(&'/') {
                        chars.next();
                        if keep {
                            self.buf.push_str("*/");
                        }
                        self.state = State::Normal;
                    } else if keep {
                        self.buf.push(c);
                    } else if c == '\n' {
                        self.buf.push('\n');
                    }
                }
                State::LineComment => {
                    if c == '\n' {
                        self.buf.push('\n');
                        self.state = State::Normal;
                    }
                }
            }
        }
        done
    }

    /// Ends the input: returns the unterminated last statement, if it has
    /// content (the `mysql` client runs it too), and resets the splitter.
    pub fn finish(&mut self) -> Option<Statement> {
        let mut done = Vec::new();
        self.end_statement(false, &mut done);
        self.state = State::Normal;
        done.pop()
    }

    fn mark_content(&mut self) {
        if !self.has_content {
            self.has_content = true;
            self.start_line = self.line;
        }
    }

    fn end_statement(&mut self, vertical: bool, done: &mut Vec<Statement>) {
        if self.has_content {
            done.push(Statement { sql: self.buf.trim().to_string(), vertical, line: self.start_line });
        }
        self.buf.clear();
        self.has_content = false;
    }
}

/// Splits a whole script into statements (a trailing statement without a
/// terminator included).
pub fn split_script(script: &str) -> Vec<Statement> {
    let mut s = Splitter::new();
    let mut out = Vec::new();
    for line in script.lines() {
        out.extend(s.push_line(line));
    }
    out.extend(s.finish());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqls(script: &str) -> Vec<String> {
        split_script(script).into_iter().map(|s| s.sql).collect()
    }

    #[test]
    fn semicolons_separate_statements() {
        assert_eq!(sqls("SELECT 1; SELECT 2;"), ["SELECT 1", "SELECT 2"]);
    }

    #[test]
    fn unterminated_last_statement_is_kept_at_end_of_input() {
        assert_eq!(sqls("SELECT 1;\nSELECT 2"), ["SELECT 1", "SELECT 2"]);
    }

    #[test]
    fn semicolon_inside_single_quoted_string_does_not_split() {
        assert_eq!(sqls("INSERT INTO t VALUES ('a;b'); SELECT 1;"), ["INSERT INTO t VALUES ('a;b')", "SELECT 1"]);
    }

    #[test]
    fn semicolon_inside_double_quoted_string_does_not_split() {
        assert_eq!(sqls("SELECT \"x;y\";"), ["SELECT \"x;y\""]);
    }

    #[test]
    fn backslash_escaped_quote_stays_inside_string() {
        assert_eq!(sqls(r"SELECT 'it\'s; fine'; SELECT 2;"), [r"SELECT 'it\'s; fine'", "SELECT 2"]);
    }

    #[test]
    fn escaped_backslash_before_closing_quote_ends_string() {
        assert_eq!(sqls(r"SELECT 'a\\'; SELECT 2;"), [r"SELECT 'a\\'", "SELECT 2"]);
    }

    #[test]
    fn doubled_quote_stays_inside_string() {
        assert_eq!(sqls("SELECT 'it''s;'; SELECT 2;"), ["SELECT 'it''s;'", "SELECT 2"]);
    }

    #[test]
    fn semicolon_inside_backticks_does_not_split() {
        assert_eq!(sqls("SELECT 1 AS `a;b`; SELECT 2;"), ["SELECT 1 AS `a;b`", "SELECT 2"]);
    }

    #[test]
    fn backslash_does_not_escape_inside_backticks() {
        assert_eq!(sqls(r"SELECT 1 AS `a\`; SELECT 2;"), [r"SELECT 1 AS `a\`", "SELECT 2"]);
    }

    #[test]
    fn dash_dash_comment_hides_semicolon_and_is_removed() {
        assert_eq!(sqls("SELECT 1 -- a; b\n;"), ["SELECT 1"]);
    }

    #[test]
    fn dash_dash_without_space_is_not_a_comment() {
        assert_eq!(sqls("SELECT 1--2;"), ["SELECT 1--2"]);
    }

    #[test]
    fn dash_dash_at_end_of_line_is_a_comment() {
        assert_eq!(sqls("SELECT 1 --\n;"), ["SELECT 1"]);
    }

    #[test]
    fn hash_comment_hides_semicolon() {
        assert_eq!(sqls("SELECT 1 # x; y\n, 2;"), ["SELECT 1 \n, 2"]);
    }

    #[test]
    fn block_comment_hides_semicolon_across_lines() {
        assert_eq!(sqls("SELECT /* a;\n b; */ 1;"), ["SELECT  \n 1"]);
    }

    #[test]
    fn executable_comment_is_kept() {
        assert_eq!(sqls("SELECT /*! 1; */;"), ["SELECT /*! 1; */"]);
    }

    #[test]
    fn comment_markers_inside_strings_are_text() {
        assert_eq!(sqls("SELECT '-- x', '# y', '/* z */';"), ["SELECT '-- x', '# y', '/* z */'"]);
    }

    #[test]
    fn statement_of_only_comments_is_not_emitted() {
        assert!(sqls("-- nothing\n/* at all */;\n;;").is_empty());
    }

    #[test]
    fn backslash_g_upper_requests_vertical_output() {
        let s = split_script("SELECT 1\\G SELECT 2;");
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].sql.as_str(), s[0].vertical), ("SELECT 1", true));
        assert_eq!((s[1].sql.as_str(), s[1].vertical), ("SELECT 2", false));
    }

    #[test]
    fn backslash_g_lower_ends_statement_normally() {
        let s = split_script("SELECT 1\\g");
        assert_eq!(s, [Statement { sql: "SELECT 1".into(), vertical: false, line: 1 }]);
    }

    #[test]
    fn backslash_g_inside_string_is_text() {
        assert_eq!(sqls("SELECT '\\G';"), ["SELECT '\\G'"]);
    }

    #[test]
    fn backslash_c_clears_the_pending_statement() {
        assert_eq!(sqls("SELECT oops\\c SELECT 2;"), ["SELECT 2"]);
    }

    #[test]
    fn multi_line_statement_completes_on_terminator_line() {
        let mut s = Splitter::new();
        assert!(s.push_line("SELECT").is_empty());
        assert!(s.is_pending());
        assert!(s.push_line("  1").is_empty());
        let done = s.push_line(";");
        assert_eq!(done, [Statement { sql: "SELECT\n  1".into(), vertical: false, line: 1 }]);
        assert!(!s.is_pending());
    }

    #[test]
    fn open_quote_keeps_statement_pending_and_is_reported() {
        let mut s = Splitter::new();
        assert!(s.push_line("SELECT 'a;").is_empty());
        assert_eq!(s.open_delimiter(), Some("'"));
        let done = s.push_line("b';");
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].sql, "SELECT 'a;\nb'");
        assert_eq!(s.open_delimiter(), None);
    }

    #[test]
    fn open_block_comment_keeps_input_pending() {
        let mut s = Splitter::new();
        assert!(s.push_line("/* start").is_empty());
        assert!(s.is_pending());
        assert_eq!(s.open_delimiter(), Some("/*"));
        assert!(s.push_line("end */").is_empty());
        assert!(!s.is_pending());
    }

    #[test]
    fn line_numbers_name_the_first_line_of_each_statement() {
        let s = split_script("\n-- header\nSELECT 1;\n\nSELECT\n2;");
        let lines: Vec<usize> = s.iter().map(|s| s.line).collect();
        assert_eq!(lines, [3, 5]);
    }

    #[test]
    fn multi_byte_text_passes_through_unchanged() {
        assert_eq!(sqls("SELECT 'héllo; 世界'; SELECT 'ß';"), ["SELECT 'héllo; 世界'", "SELECT 'ß'"]);
    }

    #[test]
    fn clear_forgets_open_quote() {
        let mut s = Splitter::new();
        s.push_line("SELECT 'unterminated");
        s.clear();
        assert!(!s.is_pending());
        assert_eq!(s.push_line("SELECT 1;").len(), 1);
    }
}
