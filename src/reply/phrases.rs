//! The wording the classifier looks for, in Danish and English: closing verbs and
//! case words, what makes a closure conditional or negated, requests and what only
//! looks like one, receipts, out-of-office notices and abbreviations. Patterns are
//! written with Danish letters; `classify` folds them (and the text) to ASCII and
//! matches case-insensitively with ASCII word boundaries.

/// A sentence that closes a case names the case and a closing verb.
pub(super) const CLOSE_VERBS: &str = r"luk(?:ker|ke|kes|ket|kede)|afslut(?:ter|te|tes|tet|tede)|clos(?:e|ed|es|ing)|resolv(?:e|ed|es|ing)|conclud(?:e|ed|es|ing)|complet(?:e|ed)";
pub(super) const CASE_NOUNS: &str = r"sag(?:en|er|erne)?|henvendelse(?:n)?|ticket(?:et|s)?|billet(?:ten)?|case|incident|issue|request|matter|report|anmeldelse(?:n)?|underretning(?:en)?|indberetning(?:en)?";
/// Status lines of ticketing systems.
pub(super) const CLOSE_STATUS: &str = r"^\s*(?:status|state|tilstand)\s*:\s*(?:closed|resolved|lukket|afsluttet|løst)\b";
/// What makes a closing sentence not (yet) a closure, wherever it stands in it: a
/// condition ("we will close it if/unless/when ..."), a question about closing, or a
/// reopening. "inden"/"før" count only as "before we/you ..." ("inden for fristen",
/// within the deadline, is no condition).
pub(super) const CLOSE_CONDITIONS: &str = r"\b(?:before|(?:inden|før) (?:vi|i|du|sagen|den|det|vores|jeres)|once|if|hvis|unless|medmindre|until|indtil|when|når|open|åben|reopen\w*|genåbn\w*|whether|om vi|hvornår|in order to|so (?:that )?we can|for at (?:vi|kunne))\b";
/// A negation in the clause of the closing verb ("Sagen er ikke lukket endnu"); in
/// another clause it negates something else ("Da vi ikke har hørt fra jer, lukker vi
/// sagen").
pub(super) const CLOSE_NEGATIONS: &str = r"\b(?:not|never|ikke|aldrig|yet|endnu)\b|n't\b";

/// Polite requests that open a sentence (asked without a question mark too).
pub(super) const ASK_OPENERS: &str =
    r"^(?:kan|kunne|vil|ville|må|har|er)\s+(?:i|du|vi få)\b|^(?:can|could|would|will|do|did|have|are|is there|may we)\s+(?:you|there|we)\b";
/// Requests anywhere in a sentence.
pub(super) const ASK_PHRASES: &str = r"\b(?:oplyse?|send (?:venligst|os)|venligst (?:send|oplys|bekræft|fremsend)|sende os|fremsende?|eftersende?|vi beder|mangler vi|(?:vi vil|vil vi) (?:gerne )?bede|bede (?:jer|dig) om|vi har brug for|vi skal bruge|vi mangler|bekræft venligst|uddybe?|please (?:provide|send|share|confirm|advise|let us know|forward|submit|upload|clarify|describe|answer|reply with|indicate|specify|check|verify)|we (?:would )?need|we require|we would like (?:to know|you to)|we kindly ask|we ask that you|we request|kindly (?:provide|send|share|confirm|advise)|we would appreciate|i would appreciate|could you|can you|(?:we|i) (?:would|must|have to) ask you to|we ask you to|(?:it )?would (?:help|assist) (?:us )?(?:to know|if you|greatly)|it would be (?:helpful|useful) (?:to know|if you)|grateful for (?:your|an|a) (?:answer|reply|response)|taknemmelige? for (?:et|jeres|dit) svar)\b";
/// "Please" and "venligst" with a verb ask for something, unless they only say how
/// to write back ("keep the number in the subject") or offer help.
pub(super) const PLEASE: &str = r"\b(?:venligst|kindly|bedes)\b|\bplease\s+(?:do\s+)?([a-z']+)";
/// What follows "please" without asking for anything.
pub(super) const PLEASE_NOT_ASKING: &[&str] =
    &["note", "be", "find", "see", "do", "don't", "dont", "feel", "contact", "call", "accept", "excuse", "disregard"];
pub(super) const PROCEDURAL: &str = r"\b(?:subject|emne\w*|correspondence|korrespondance|reply to this|svar på denne|svare på denne|do not hesitate|don't hesitate|tøv ikke|henvis\w*|refer to|quote|sagsnummer\w*|sagsnr|case number|ticket number)\b";

/// Offers and conditions: "if you have questions, call us" asks nothing.
pub(super) const ASK_GUARDS: &str = r"\b(?:if you|if we|hvis i|hvis du|hvis vi|should you|skulle i|do not hesitate|don't hesitate|feel free|velkomne?|velkommen|tøv ikke|in case you|i tilfælde af|har (?:i|du) (?:nogen |yderligere |flere |andre )?spørgsmål|any (?:further |other |more )?questions|questions\?)\b";
/// A request put as a condition ("we would appreciate it if you could forward ..."):
/// asks, although "if you" is in it.
pub(super) const ASK_CONDITIONAL: &str = r"\b(?:appreciate(?: it)?|grateful|thankful|helpful) if (?:you|i) (?:could|can|would|will)\b|\b(?:sætte pris på|være taknemmelige?|være en hjælp),? (?:hvis|om) (?:i|du) (?:kan|kunne|vil|ville)\b";

/// Confidentiality footers ask the wrong reader to delete the mail: not a question.
pub(super) const DISCLAIMER: &str = r"\b(?:rette modtager|intended recipient|fortrolig\w*|confidential|ved en fejl|in error)\b";

/// Receipt and "we are on it". Thanks count when they are for the report itself
/// ("thanks for the quick fix" is no receipt), and "we will get back to you" alone
/// promises an answer without saying anything was received.
pub(super) const ACK_PHRASES: &str = r"\b(?:modtag\w*|kvitter\w*|registrer\w*|oprettet|sagsn(?:ummer|r)|(?:tak|takker) for (?:(?:din|jeres|jer|den|det|denne|de|dine|en|jeres hurtige|din hurtige|hurtig) )?(?:henvendelse\w*|anmeldelse\w*|underretning\w*|indberetning\w*|besked\w*|mail\w*|e-mail\w*|orientering\w*|oplysning\w*|information\w*|rapport\w*|notifikation\w*|advisering\w*|varsling\w*|at (?:(?:i|du) (?:har )?)?(?:kontakte|henvende|orientere|underrette|anmelde|indberette)\w*)|tak,? fordi (?:i|du)|got (?:it|your (?:report|message|mail|e-?mail|notification))|(?:we're|we are|i'm|i am) on it|vi kigger på|vi ser på|ser nærmere|kigger nærmere|behandl\w*|videresendt|taget hånd om|received|receipt|acknowledg\w*|registered|logged|created|ticket (?:number|id)|case (?:number|id)|reference number|thank(?:s| you) for (?:(?:your|the|this|sending|submitting) )?(?:report\w*|notification\w*|notice|message|e-?mail|mail|information|heads[- ]up|alert|reporting|bringing this|flagging|submission|letting us know|informing us|notifying us|reaching out|contacting us|getting in touch)|looking into|look into|will review|being handled|under investigation|forwarded|assigned)\b";
pub(super) const ACK_GUARDS: &str = r"\b(?:not|ikke|never|aldrig)\b|n't\b";

/// Out-of-office wording, for mail that says it was sent automatically.
pub(super) const AWAY: &str = r"\b(?:out of (?:the )?office|fraværende|ikke på kontoret|på ferie|holiday|vacation|annual leave|away from|tilbage (?:igen|den|på)|back (?:on|in the office)|automatisk svar|automatic reply|autosvar)\b";

/// Abbreviations that end in a full stop inside a sentence, in Danish and English
/// (folded: "f.eks.", "bl.a.", "kl. 14.30"). "osv." and "etc." are left out: they
/// end sentences as often as not.
pub(super) const ABBREVIATIONS: &[&str] = &[
    "bl.a", "f.eks", "fx", "ca", "kl", "jf", "evt", "inkl", "ekskl", "pga", "dvs", "mht", "vedr", "nr", "tlf", "hhv", "iflg", "ift", "bla",
    "e.g", "i.e", "approx", "dr", "mr", "mrs", "ms", "no", "vs", "cf", "incl", "ref", "tel", "st",
];
