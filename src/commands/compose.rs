//! `certmail compose`: asks on a terminal for what an incident file still needs, one
//! field at a time in the form's order, checks each answer as it is typed (asking
//! again when it is wrong) and saves the file after every answer, owner-only, so an
//! interrupted session loses nothing. Then it shows the preview and asks before
//! sending, which is `notify` itself, run as if typed.
//!
//! It only asks: what a field is, how an answer is read, how it is written into the
//! file and what is still missing all live in `incident`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use chrono::{DateTime, FixedOffset, Local, NaiveDateTime, TimeZone, Timelike, Utc};

use crate::cli::{Cli, Command, ComposeArgs};
use crate::commands::{language, notify, preview, scheme};
use crate::config::Settings;
use crate::exit::{CmdResult, Failure, FailureKind};
use crate::fsutil;
use crate::incident::answer::{self, Answer};
use crate::incident::fields::{self, Field, Kind, Opt};
use crate::incident::skeleton::skeleton;
use crate::incident::{self, Diagnostic, DiagnosticKind, Language, Scheme, Source, document};
use crate::output::sanitize;

pub fn run(settings: &Settings, args: &ComposeArgs) -> CmdResult {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::input(
            "compose asks its questions on a terminal. Without one: `certmail new SCHEME > FILE`, fill it in, then `certmail notify FILE`",
        ));
    }
    let path = args.file.as_path();
    if path.extension().is_some_and(|e| e == "json") {
        return Err(Failure::input(format!("{}: compose writes TOML; give it a .toml file", path.display())));
    }
    let lang = args.lang.map(language).unwrap_or(settings.language());
    let mut session = Session { input: std::io::stdin().lock(), lang, file: path.display().to_string() };
    let mut text = if path.exists() {
        let source = incident::read_source(path)?;
        let exam = incident::examine(&source, None, None);
        if args.lang.is_none()
            && let Some(lang) = exam.incident.as_ref().and_then(|i| i.language)
        {
            session.lang = lang;
        }
        let unaskable: Vec<Diagnostic> = exam.diagnostics.into_iter().filter(|d| target(d).is_none()).collect();
        if !unaskable.is_empty() {
            return Err(fix_in_editor(&source, &unaskable, session.lang));
        }
        source.text
    } else {
        let schemes = match args.scheme.is_empty() {
            false => args.scheme.iter().copied().map(scheme).collect(),
            true => session.ask_schemes()?,
        };
        let text = skeleton(&schemes, session.lang);
        fsutil::write_private(path, text.as_bytes())?;
        text
    };
    session.say(&session.words(
        &format!("Hvert svar gemmes straks i {0}. Ctrl-C stopper; `certmail compose {0}` fortsætter, hvor du slap.", path.display()),
        &format!("Each answer is saved to {0} at once. Ctrl-C stops; `certmail compose {0}` goes on where you left off.", path.display()),
    ));

    let identity = settings.file.identity.as_ref();
    let name = path.display().to_string();
    loop {
        let source = Source::toml(&name, &text);
        let exam = incident::examine(&source, identity, Some(Utc::now()));
        let (askable, unaskable): (Vec<Diagnostic>, Vec<Diagnostic>) = exam.diagnostics.into_iter().partition(|d| target(d).is_some());
        if !unaskable.is_empty() {
            return Err(fix_in_editor(&source, &unaskable, session.lang));
        }
        let Some(problem) = askable.first() else { break };
        text = session.resolve(problem, askable.len(), &text, path, identity)?;
    }

    session.say("");
    session.say(&session.words(
        &format!("Alle påkrævede felter er udfyldt og gemt i {}. Sådan ser anmeldelsen ud:", path.display()),
        &format!("Every required field is filled in and saved in {}. This is the notification:", path.display()),
    ));
    let file = path.to_str().ok_or_else(|| Failure::input(format!("{}: the file name is not UTF-8", path.display())))?;
    let mut with_lang = vec![file];
    if let Some(lang) = args.lang {
        with_lang.extend(["--lang", language(lang).code()]);
    }
    let Command::Preview(preview_args) = typed(&[&["preview"], with_lang.as_slice()].concat())? else {
        return Err(Failure::failed("compose: preview did not read as preview"));
    };
    preview::run(settings, &preview_args, false)?;

    let recipient = settings.recipient(settings.default_recipient()).map(|r| r.display_name().to_string()).unwrap_or_default();
    let send = session.confirm(&session.words(
        &format!("Send den nu til {recipient}? Skriv ja for at sende (alt andet stopper uden at sende): "),
        &format!("Send it now to {recipient}? Type yes to send (anything else stops without sending): "),
    ))?;
    if !send {
        session.say(&session.words(
            &format!("Ikke sendt. Når du er klar: certmail notify {}", path.display()),
            &format!("Not sent. When you are ready: certmail notify {}", path.display()),
        ));
        return Ok(crate::exit::Outcome::Done);
    }
    let Command::Notify(notify_args) = typed(&[&["notify"], with_lang.as_slice()].concat())? else {
        return Err(Failure::failed("compose: notify did not read as notify"));
    };
    notify::run(settings, &notify_args, false)
}

/// A command as if typed on the command line.
fn typed(args: &[&str]) -> Result<Command, Failure> {
    Cli::command_from(args).map_err(|e| Failure::failed(format!("compose could not run `certmail {}`: {e}", args.join(" "))))
}

/// The field to ask for to resolve a problem: the field it names, the point in time
/// a part of it belongs to, or the section whose lists it is about. `None` for what
/// no answer can fix (syntax, unknown keys, encoding).
fn target(d: &Diagnostic) -> Option<&'static Field> {
    if matches!(d.kind, DiagnosticKind::Syntax | DiagnosticKind::UnknownField | DiagnosticKind::Encoding) {
        return None;
    }
    fields::field(&d.path).or_else(|| {
        let parent = fields::field(d.path.rsplit_once('.')?.0)?;
        matches!(parent.kind, Kind::Time { .. }).then_some(parent)
    })
}

fn fix_in_editor(source: &Source, problems: &[Diagnostic], lang: Language) -> Failure {
    let failure = incident::diagnostics_to_failure(source, problems);
    let how = match lang {
        Language::Da => "ret disse i en editor, og kør så compose igen",
        Language::En => "fix these in an editor, then run compose again",
    };
    Failure::input(format!("{}\n{how}", failure.message))
}

fn related(path: &str, field: &str) -> bool {
    path == field || path.starts_with(&format!("{field}."))
}

/// The terminal and the language the questions are asked in.
struct Session<R: BufRead> {
    input: R,
    lang: Language,
    /// The file being filled in, as named on the command line.
    file: String,
}

impl<R: BufRead> Session<R> {
    fn words(&self, da: &str, en: &str) -> String {
        if self.lang == Language::Da { da.to_string() } else { en.to_string() }
    }

    fn say(&self, text: &str) {
        crate::output::say(text);
    }

    /// One line typed; end of input (Ctrl-D) stops the session, answers kept.
    fn line(&mut self, prompt: &str) -> Result<String, Failure> {
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{}", sanitize(prompt));
        let _ = out.flush();
        let mut line = String::new();
        match self.input.read_line(&mut line) {
            Ok(0) => {
                let _ = writeln!(out);
                Err(Failure::new(
                    FailureKind::Interrupted,
                    self.words(
                        &format!("stoppet; svarene indtil nu er gemt i {0}, og `certmail compose {0}` fortsætter", self.file),
                        &format!("stopped; the answers so far are saved in {0}, and `certmail compose {0}` goes on", self.file),
                    ),
                ))
            }
            Ok(_) => Ok(line.trim_end_matches(['\n', '\r']).to_string()),
            Err(e) => Err(Failure::input(format!("cannot read the answer: {e}"))),
        }
    }

    fn confirm(&mut self, question: &str) -> Result<bool, Failure> {
        let typed = self.line(question)?;
        Ok(crate::output::is_yes(&typed))
    }

    /// One scheme or several (a hospital's ransomware case is NIS2 and a personal data
    /// breach at once), by number or name, separated by commas.
    fn ask_schemes(&mut self) -> Result<Vec<Scheme>, Failure> {
        let field = fields::field("scheme").ok_or_else(|| Failure::failed("the form has no scheme field"))?;
        self.say(field.question(self.lang));
        self.options(Scheme::OPTIONS);
        self.say(&self.words(
            "  Flere ordninger for samme hændelse: adskil dem med komma (fx 1, 5).",
            "  Several schemes for one incident: separate them with commas (e.g. 1, 5).",
        ));
        'ask: loop {
            let typed = self.line("> ")?;
            let mut schemes: Vec<Scheme> = Vec::new();
            for piece in typed.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match answer::read(field, piece, &self.context(&local)) {
                    Ok(Some(Answer::Choice(key))) => {
                        let s: Scheme = serde_json::from_value(serde_json::json!(key)).map_err(|e| Failure::failed(e.to_string()))?;
                        if !schemes.contains(&s) {
                            schemes.push(s);
                        }
                    }
                    Ok(_) => {
                        self.say(&self.words("  vælg blandt dem", "  choose among them"));
                        continue 'ask;
                    }
                    Err(why) => {
                        self.say(&format!("  {piece}: {why}"));
                        continue 'ask;
                    }
                }
            }
            if schemes.is_empty() {
                self.say(&self.words("  vælg mindst én", "  choose at least one"));
                continue;
            }
            return Ok(schemes);
        }
    }

    fn options(&self, options: &[Opt]) {
        let width = options.iter().map(|o| o.0.len()).max().unwrap_or(0);
        for (i, (key, da, en)) in options.iter().enumerate() {
            let label = if self.lang == Language::Da { da } else { en };
            self.say(&format!("  {:>2}  {key:<width$}  {label}", i + 1));
        }
    }

    fn context<'a>(&self, local: &'a dyn Fn(NaiveDateTime) -> Option<DateTime<FixedOffset>>) -> answer::Context<'a> {
        let now = Local::now().fixed_offset();
        answer::Context { lang: self.lang, now: now.with_nanosecond(0).unwrap_or(now), local }
    }

    /// Asks until `problem` is gone; returns the file's text as saved.
    fn resolve(
        &mut self,
        problem: &Diagnostic,
        left: usize,
        text: &str,
        path: &Path,
        identity: Option<&crate::config::IdentityConfig>,
    ) -> Result<String, Failure> {
        let Some(field) = target(problem) else { return Ok(text.to_string()) };
        // A section's lists of which one is required, or a list that words can replace.
        let asked: Vec<&'static Field> = if field.kind == Kind::Section {
            fields::children(field.path).filter(|f| matches!(f.kind, Kind::Choices(_))).collect()
        } else {
            let other = format!("{}-other", field.path);
            std::iter::once(field).chain(fields::field(&other).filter(|_| matches!(field.kind, Kind::Choices(_)))).collect()
        };
        let may_skip = asked.len() > 1;
        self.say("");
        if !matches!(problem.kind, DiagnosticKind::Unfilled | DiagnosticKind::Missing) {
            self.say(&format!("{}: {}", problem.path, problem.message));
        }
        let mut text = text.to_string();
        for f in asked {
            let remaining = self.words(&format!("{left} tilbage"), &format!("{left} left"));
            let skip = if may_skip { self.words(", Enter for at springe over", ", Enter to skip") } else { String::new() };
            self.say(&format!("{} ({remaining}{skip})", f.question(self.lang)));
            self.hint(f);
            if let Some(saved) = self.ask(f, may_skip, &text, identity)? {
                text = saved;
                fsutil::write_private(path, text.as_bytes())?;
                let exam = incident::examine(&Source::toml(&path.display().to_string(), &text), identity, Some(Utc::now()));
                if !exam.diagnostics.iter().any(|d| d.path == problem.path) {
                    break;
                }
            }
        }
        Ok(text)
    }

    fn hint(&self, f: &Field) {
        match f.kind {
            Kind::Choice(options) | Kind::OneOrMore(options) => self.options(options),
            Kind::Choices(options) => {
                self.options(options);
                self.say(&self.words(
                    "  (ét eller flere: numre eller navne, adskilt af komma)",
                    "  (one or more: numbers or names, separated by commas)",
                ));
            }
            Kind::Bool => self.say(&self.words("  (ja/nej)", "  (yes/no)")),
            Kind::Count => self.say(&self.words("  (et tal)", "  (a number)")),
            Kind::Time { end } => {
                let not_ended = if end { self.words(", \"ikke afsluttet\"", ", \"not ended\"") } else { String::new() };
                self.say(&self.words(
                    &format!("  (f.eks. 2026-01-31 06:40, 06:40 for i dag, \"nu\", \"ved ikke\"{not_ended}, eller med ord)"),
                    &format!("  (e.g. 2026-01-31 06:40, 06:40 for today, \"now\", \"unknown\"{not_ended}, or in words)"),
                ));
            }
            Kind::Line | Kind::Prose | Kind::Section | Kind::Entries => {}
        }
    }

    /// Reads answers to one field until one is right: of the field's kind, and leaving
    /// no problem with the field once written into the file. `None` when skipped.
    fn ask(
        &mut self,
        f: &Field,
        may_skip: bool,
        text: &str,
        identity: Option<&crate::config::IdentityConfig>,
    ) -> Result<Option<String>, Failure> {
        loop {
            let typed = self.line("> ")?;
            let read = answer::read(f, &typed, &self.context(&local));
            let answer = match read {
                Ok(Some(a)) => a,
                Ok(None) if may_skip => return Ok(None),
                Ok(None) => {
                    self.say(&self.words("  et svar er påkrævet", "  an answer is required"));
                    continue;
                }
                Err(why) => {
                    self.say(&format!("  {why}"));
                    continue;
                }
            };
            let candidate = match document::set(text, f.path, &answer) {
                Ok(c) => c,
                Err(why) => {
                    self.say(&format!("  {why}"));
                    continue;
                }
            };
            // The answer in the whole file: rules that span fields (an end before the
            // start, a time in the future) speak here, before anything is saved.
            let exam = incident::examine(&Source::toml("", &candidate), identity, Some(Utc::now()));
            match exam.diagnostics.iter().find(|d| related(&d.path, f.path)) {
                Some(d) => self.say(&format!("  {}", d.message)),
                None => {
                    if let Answer::Time { status: "other", .. } = answer {
                        self.say(&self.words(
                            "  (gemt som \"Andet\" med dine ord; skriv dato og klokkeslæt for at angive det præcist)",
                            "  (saved as \"other\" in your words; type a date and time to give it exactly)",
                        ));
                    }
                    return Ok(Some(candidate));
                }
            }
        }
    }
}

/// The local time zone's offset at a wall-clock time (the earlier one in the hour
/// that repeats when summer time ends).
fn local(wall: NaiveDateTime) -> Option<DateTime<FixedOffset>> {
    Local.from_local_datetime(&wall).earliest().map(|t| t.fixed_offset())
}
