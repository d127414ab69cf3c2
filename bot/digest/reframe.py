"""The Why in the digest's own framing: the gap first, not the abstract's opening words.

Abstracts open on background ("Despite recent progress in X, …", "X have transformed Y, but …") and
tell their findings in the first person ("We find that …"). An editor leads with the gap and says
who is meant instead of "they". These rules rewrite one problem sentence that way, by moving and
dropping the abstract's own words only (never adding a number or a name):

- a concession is dropped: "Despite progress in X, Y remains hard." → "Y remains hard.";
- background before "but"/"yet" is dropped when the gap comes after it: "X have transformed Y, but
  their use in Z remains underexplored." → "X's use in Z remains underexplored.";
- one subject with two predicates keeps the one that names the gap: "X are easy to scale but suffer
  from Y." → "X suffer from Y.";
- "They"/"Their"/"These models" (or "it"/"them" early in the sentence, "Generating it by hand…")
  naming the subject of the sentence before are replaced by it;
- a discourse link that needs the sentence before ("In contrast, …", "As a result, …") is dropped
  when what follows reads alone;
- a first-person frame is dropped: "We uncover a surprising phenomenon: X." → "X.",
  "We find that X." → "X.", "We identify a key limitation: X." → "A key limitation: X.",
  "We study whether X." → "The question: whether X.", "Y, whereas we explore Z." → "Y.".

A rewrite that would leave a pronoun without its noun, or could name the wrong noun ("While X did
Y, their…"), is not made: the sentence is then kept as it was (and the summarizer brings the
sentence it leans on, as before).
"""

from __future__ import annotations

import re

from .roles import _BACK_REFERENCE, _DUMMY_IT, _HARD_TASK, _LEADING_CONTRAST, _PROBLEM
from .text import _LEAD_IN, capitalise

# Words that end a sentence's subject: a finite verb, an auxiliary, or an adverb before one.
_SUBJECT_END = re.compile(
    r"\s(?:have|has|had|are|is|was|were|can|cannot|could|may|might|must|should|will|would|do|does|"
    r"did|remain|remains|show|shows|demonstrate|demonstrates|achieve|achieves|excel|excels|perform|"
    r"performs|struggle|struggles|rely|relies|offer|offers|enable|enables|provide|provides|face|faces|"
    r"suffer|suffers|require|requires|pose|poses|lack|lacks|use|uses|interact|interacts|play|plays|"
    r"become|becomes|marks|often|typically|increasingly|now|still|already|recently|largely|primarily|"
    r"generally|commonly|usually|mainly|rapidly|continue|continues|depend|depends|tend|tends|"
    r"process|processes|produce|produces|generate|generates|operate|operates|allow|allows|hold|holds|"
    r"help|helps|bring|brings|make|makes|yield|yields|lead|leads|need|needs|seem|seems|appear|appears|"
    r"exhibit|exhibits|encounter|encounters|improve|improves|enhance|enhances|fail|fails|serve|serves|"
    r"refer|refers|emerged|proven|gained|learn|learns|solve|solves)\b|,\s|\s[-–—]\s"
)
# "Recent advances in X have …": what "they" in the next sentence means is X, not the advances.
_SUBJECT_LEAD = re.compile(
    r"^(?:(?:the |recent |rapid |remarkable |significant |impressive )*"
    r"(?:advance(?:ment)?s|progress|development|success(?:es)?|emergence|rise|proliferation|"
    r"capabilities|breakthroughs?) (?:in|of) )",
    re.IGNORECASE,
)
# A subject that is no noun phrase to stand for "they": the authors, a clause, a pronoun.
_NOT_A_SUBJECT = re.compile(
    r"\b(?:we|our|us|this|that|these|those|it|its|they|their|which|who|whether|how|what|when|if)\b|"
    r"^(?:to|in|on|for|with|by|as|at|from|despite|while|although|though|recently)\b|[:;]",
    re.IGNORECASE,
)
_ACRONYM = re.compile(r"\(([A-Z][\w-]*[A-Za-z])\)$")
_MAX_SUBJECT_WORDS = 9
_MAX_SHARED_SUBJECT_WORDS = 20
# Words that point at something said earlier. A demonstrative ("these difficulties") in a clause's
# first words leans back; so does "they"/"their" unless a plural noun before it in the clause is what
# it means ("Improving reasoning in small models remains hard due to their size" reads alone).
_DEMONSTRATIVE = re.compile(r"^(?:these|those|this|such|latter|former)$", re.IGNORECASE)
_PERSONAL = re.compile(r"^(?:they|them|their|theirs|it|its)$", re.IGNORECASE)
_OPENING_WORDS = 10
_EARLY_WORDS = 5
# "In contrast, …": links to the sentence before that an editor drops when the rest reads alone.
_LINK = re.compile(
    r"^(?:in contrast|by contrast|conversely|consequently|as a (?:result|consequence)|thus|therefore|"
    r"hence|accordingly|meanwhile|in particular|specifically|notably|importantly|crucially|even so|"
    r"nevertheless|nonetheless|still|yet|however|but|moreover|furthermore|additionally|"
    r"in addition|also),?\s+",
    re.IGNORECASE,
)
# "Despite X, Y" / "While X, Y": the concession before the main clause.
_CONCESSION = re.compile(r"^(?:despite|although|though|even though|while|whereas|notwithstanding)\b", re.I)
# "A, but B" / "A; yet, B" / "A; however, B": the turn from background to gap inside one sentence.
_TURN = re.compile(r"(?:,|;|\s[-–—])\s+(?:but|yet|however|nonetheless)(?!\s+also\b),?\s+", re.IGNORECASE)
# "We find that X", "We uncover a surprising phenomenon: X", "Our results show that X".
_FIRST_PERSON_FRAME = re.compile(
    r"^(?:(?:in this (?:paper|work|study)|here|surprisingly|interestingly|notably|as a bonus|"
    r"(?:under|in|on|across|through|using|with|by|after|in addition to) [^,;:]{3,80}),?\s+)?"
    r"(?:we (?:first |further |also |empirically |theoretically )?(?:find|show|observe|uncover|identify|"
    r"demonstrate|reveal|discover|note|highlight|confirm|establish)(?:,\s+however,)?|"
    r"our (?:findings|results|analysis|analyses|experiments|study) (?:show|reveal|indicate|suggest|"
    r"demonstrate|confirm))\b"
    r"(?:\s+that\s+|\s+(?P<label>(?:a|an|the)\s[^:;.]{0,100}?):\s+)",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(r"\b(?:we|our|us)\b", re.IGNORECASE)
_GAP_NOUN = re.compile(
    r"\b(?:limitations?|challenges?|gaps?|problems?|issues?|bottlenecks?|flaws?|weakness(?:es)?|"
    r"failures?|risks?|trade-?offs?|shortcomings?|vulnerabilit(?:y|ies))\b",
    re.IGNORECASE,
)
# "We study whether X": the authors' question, which the digest asks in its own words.
_QUESTION_FRAME = re.compile(
    r"^(?:(?:in this (?:paper|work|study)|here),?\s+)?we (?:first |systematically |empirically )?"
    r"(?:study|investigate|examine|ask|explore|question|analy[sz]e|probe|revisit)\s+"
    r"(?=(?:whether|how|why|what|if|when|which)\b)",
    re.IGNORECASE,
)
# "…, whereas we explore …": the gap is said before the authors turn to their own work.
_OWN_TAIL = re.compile(r"(?:,|;)\s+(?:whereas|while|but|and|so|thus|hence)?\s*(?:here\s+)?we\s[^.]*", re.I)
# Words a clause can start with that join it to a list before ("X, Y and Z, …"), not a main clause.
_CONTINUATION = re.compile(r"^(?:and|or|as well as|nor|etc)\b", re.IGNORECASE)
_VERB = re.compile(_SUBJECT_END.pattern.replace(r"|,\s|\s[-–—]\s", ""), re.IGNORECASE)
_MIN_WORDS = 5


def subject(sentence: str, *, verb_required: bool = False, max_words: int = _MAX_SUBJECT_WORDS) -> str | None:
    """The noun phrase a sentence opens with, when it is one ("Large language models (LLMs)" of
    "Large language models (LLMs) have transformed …"), for "they"/"their" in the next sentence."""
    text = _LEADING_CONTRAST.sub("", sentence)
    text = _SUBJECT_LEAD.sub("", text)
    end = _SUBJECT_END.search(text)
    if end is None or (verb_required and not end.group(0).strip().isalpha()):
        return None
    phrase = text[: end.start()].strip()
    words = phrase.split()
    if not 1 <= len(words) <= max_words or _NOT_A_SUBJECT.search(phrase):
        return None
    if phrase.count("(") != phrase.count(")") or not phrase[0].isalpha():
        return None
    return capitalise(phrase)


def _is_plural(phrase: str) -> bool:
    acronym = _ACRONYM.search(phrase)
    head = acronym.group(1) if acronym else phrase.split()[-1]
    return head.endswith("s") and not head.endswith("ss")


def _possessive(phrase: str) -> str:
    acronym = _ACRONYM.search(phrase)
    if acronym:  # "Large Language Models (LLMs)" → "LLMs'": the short name the abstract uses
        phrase = acronym.group(1)
    return phrase + ("'" if phrase.endswith("s") else "'s")


def _plural_noun(word: str) -> bool:
    word = word.strip("(),;:'\"")
    return (
        len(word) > 3
        and word.endswith("s")
        and not word.endswith(("ss", "us", "is", "'s"))
        and not _VERB.fullmatch(" " + word.lower())
    )


# "Alternatives such as X struggle…", "Other methods…": an alternative to what the sentence before said.
_CONTRASTED = re.compile(r"(?:alternatives?|other|another|both|neither|either)\b", re.IGNORECASE)
# "The key design principles remain unclear": a bare "the X" as subject is the X of the part before
# (the principles of what?); "The true potential of large language models…" says of what.
_BARE_DEFINITE = re.compile(
    r"the\s(?!(?:research )?community\b|field\b|literature\b)"
    r"(?:(?!of|in|for|on|to|from|with|by|between|across|about|behind|underlying)[^\s,()]+\s){1,6}?"
    r"(?:remains?|is|are|was|were|has|have|lacks?|fails?|suffers?|struggles?)\b",
    re.IGNORECASE,
)


def reads_alone(text: str) -> bool:
    """No word in the opening that needs an earlier sentence ("these difficulties", "their
    ability"; "It remains unclear whether…" is no such word), and not a fragment."""
    words = text.split()
    if len(words) < _MIN_WORDS or _CONTINUATION.match(text) or _CONTRASTED.match(text):
        return False
    start = 2 if _DUMMY_IT.match(text) else 0
    for position in range(start, min(len(words), _OPENING_WORDS)):
        word = words[position].strip("(),;:.'\"")
        following = words[position + 1].lower() if position + 1 < len(words) else ""
        if _DEMONSTRATIVE.match(word) and not (word.lower() == "such" and following == "as"):
            return False
        if _PERSONAL.match(word):
            if word.lower().startswith("the"):  # they, them, their
                if not any(_plural_noun(w) for w in words[:position]):
                    return False
            elif position < _EARLY_WORDS:  # it, its: too often bound to a singular noun to tell
                return False
    return True


def resolve(text: str, antecedent: str | None) -> str | None:
    """`text` with its opening "They …", "Their …", "These models …" replaced by `antecedent` (the
    subject of the sentence or clause before), or `text` itself when it already reads alone; None
    when neither works."""
    if reads_alone(text):
        return capitalise(text)
    if antecedent is None:
        return None
    first, _, rest = text.partition(" ")
    word = first.lower()
    plural = _is_plural(antecedent)
    if (word == "they" and plural) or (word == "it" and not plural and not _DUMMY_IT.match(text)):
        candidate = f"{antecedent} {rest}"
    elif (word == "their" and plural) or (word == "its" and not plural):
        noun, _, tail = rest.partition(" ")
        if noun.lower() == antecedent.split()[-1].lower():  # "Their methods" of "Self-play methods"
            candidate = f"{antecedent} {tail}"
        else:
            candidate = f"{_possessive(antecedent)} {rest}"
    elif word in {"these", "such", "those"}:
        noun, _, tail = rest.partition(" ")
        heads = {w.lower().strip("()") for w in antecedent.split()}
        if noun.lower() not in heads and noun.lower().rstrip("s") not in {h.rstrip("s") for h in heads}:
            return None
        candidate = f"{antecedent} {tail}"
    else:
        return _resolve_inside(text, antecedent, plural)
    # Only the replaced words may have leaned back: what follows them must read alone too.
    if not reads_alone(candidate):
        return None
    return capitalise(candidate)


# Words that name nothing an "it" could stand for: "Generating it automatically…", "Evaluating
# whether these models…".
_NAMES_NOTHING = re.compile(
    r"^(?:\w+ing|\w+ly|whether|how|when|why|what|to|of|in|on|for|with|by|from|a|an|the|and|or|but|"
    r"yet|still|however|critical|key|major|central|significant|remains?|is|are)$",
    re.IGNORECASE,
)


def _mid_sentence(phrase: str) -> str:
    """ "Large Language Models (LLMs)" reads "large language models (LLMs)" after a sentence's first
    word; a name ("GPT", "Kepler's law") keeps its capitals."""
    words = phrase.split()
    acronym = _ACRONYM.search(phrase)
    if acronym and all(w[:1].isupper() and w[1:].islower() for w in words[:-1] if w.isalpha()):
        # "Large Language Models (LLMs)": capitals that only spell out the acronym
        return " ".join([*(w.lower() for w in words[:-1]), words[-1]])
    first = words[0]
    if first[1:].islower() and first.replace("-", "").isalpha():
        return " ".join([first.lower(), *words[1:]])
    return phrase


def _resolve_inside(text: str, antecedent: str, plural: bool) -> str | None:
    """The first word of the opening that leans back, replaced by `antecedent`: "A critical gap
    remains in their ability…", "Generating it automatically…", "Evaluating whether these models…".
    Only when nothing before it in the clause could be what it means."""
    words = text.split(" ")
    at = next(
        (
            i
            for i, w in enumerate(words[:_OPENING_WORDS])
            if w.lower() in {"their", "they", "them", "it", "its", "these", "those"}
        ),
        None,
    )
    if at is None or at == 0:
        return None
    word = words[at].lower()
    if (word in {"it", "its"}) == plural:
        return None  # "it" for a plural subject, "their" for a singular one: something else is meant
    if word in {"their", "they", "them"} and any(_plural_noun(w) for w in words[:at]):
        return None
    if word in {"it", "its"} and not all(_NAMES_NOTHING.match(w) for w in words[:at]):
        return None
    named = _mid_sentence(antecedent)
    if word in {"these", "those"}:
        noun = words[at + 1].lower().strip(",.;:") if at + 1 < len(words) else ""
        heads = {w.lower().strip("()").rstrip("s") for w in antecedent.split()}
        if not noun or noun.rstrip("s") not in heads:
            return None
        replaced = [*words[:at], named, *words[at + 2 :]]
    elif word in {"their", "its"}:
        replaced = [*words[:at], _possessive(named), *words[at + 1 :]]
    else:
        replaced = [*words[:at], named, *words[at + 1 :]]
    candidate = " ".join(replaced)
    return capitalise(candidate) if reads_alone(candidate) else None


# Flaws the problem cues don't name: background that holds one is part of the gap, not a concession.
_FLAW = re.compile(
    r"\b(?:bias(?:ed|es)?|errors?|erroneous|wrong|poor(?:ly)?|slow|noisy|unstable|inaccura\w*|"
    r"fragile|inconsisten\w*|hallucinat\w*|misaligned|unsafe|harmful|inefficien\w*)\b",
    re.IGNORECASE,
)


def _names_a_flaw(text: str) -> bool:
    """Whether background names a flaw itself ("X is biased, but…"): then it is part of the gap.
    "Solves complex problems" names a task, not a flaw."""
    return len(_PROBLEM.findall(text)) > len(_HARD_TASK.findall(text)) or bool(_FLAW.search(text))


# How a clause with a subject of its own starts (a determiner, a name, a gerund, "there"); after "…,
# but" anything else is a second predicate of the same subject ("…, but incurs high costs").
_CLAUSE_START = re.compile(
    r"(?:the|a|an|their|its|they|it|there|this|these|those|such|most|many|some|existing|current|prior|"
    r"previous|few|no|little|none|each|every|all|both|how|whether|what|why|[A-Z][\w-]*|\w+ing)\b"
)
# "X is effective but limited by Y", "X excel at A but rely on B": one subject, two predicates.
_SHARED_TURN = re.compile(
    r"(?<=\w)\s+(?:(?:but|yet)\s+(?:still\s+|often\s+)?(?=\w)|"
    r"and\s+(?:still\s+|often\s+)?(?=(?:cannot|can't|fail|fails|struggle|struggles|lack|lacks|suffer|"
    r"suffers)\b))",
    re.IGNORECASE,
)
# The second predicate of "X is effective but limited by …" has no verb of its own: "is" is shared.
_COPULA_GAP = re.compile(
    r"(?:limited|constrained|hampered|hindered|bottlenecked|plagued|prone|static|"
    r"costly|expensive|slow|brittle|fragile|opaque|vulnerable|unreliable)\b",
    re.I,
)
# A predicate that compares with the part before the turn needs it.
_COMPARES = re.compile(
    r"\b(?:simpler|easier|harder|smaller|larger|weaker|stronger|same|similar|comparable|otherwise)\b",
    re.IGNORECASE,
)
_COPULA = re.compile(r"\s(is|are|was|were|remains?)\s")


def _shared_subject_gap(before: str, after: str) -> str | None:
    """ "X excel at A but rely on B" → "X rely on B"; "X is effective but limited by B" → "X is limited
    by B": the subject with the predicate that names the gap, when that predicate names one."""
    # "…but typically static": the hedge stays, the test reads past it.
    hedge = re.match(r"(?:typically|usually|largely|mostly|often|generally|remain)\s+", after, re.I)
    predicate = after[hedge.end() :] if hedge else after
    if not _PROBLEM.search(after) and not _FLAW.search(after) and not _COPULA_GAP.match(predicate):
        return None
    if re.search(r"\b(?:which|that|who|whose|where)\b", before):
        return None  # the turn is inside a relative clause: its subject is not the sentence's
    if _COMPARES.search(predicate[:60]):
        return None  # "…solve complex problems yet fail on simpler variants": simpler than what was dropped
    # The subject stays where it was, so a long one ("Training X for Y via Z") is no risk here.
    phrase = subject(before, max_words=_MAX_SHARED_SUBJECT_WORDS)
    if phrase is None or (
        not before.startswith(phrase[:1].lower() + phrase[1:]) and not before.startswith(phrase)
    ):
        return None
    verb = _VERB.match(" " + predicate)
    if verb is not None:
        candidate = f"{phrase} {after}"
    else:
        copula = _COPULA.search(before[len(phrase) - 1 :])
        if copula is None or not _COPULA_GAP.match(predicate):
            return None
        candidate = f"{phrase} {copula.group(1)} {after}"
    return capitalise(candidate) if reads_alone(candidate) else None


_NOT_MAIN = frozenset(
    {
        "where",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "that",
        "as",
        "because",
        "since",
        "while",
        "whereas",
        "including",
        "such",
        "especially",
        "particularly",
        "e.g.",
        "i.e.",
    }
)


def _main_clause(text: str) -> str | None:
    """What follows a concession ("Despite progress in X, Y …" → "Y …"): the first clause after a
    comma that has a verb of its own (so "Despite A, B and C, Y …" skips the list)."""
    for comma in re.finditer(r",\s+", text):
        rest = text[comma.end() :]
        if _CONTINUATION.match(rest):
            continue
        clause = re.split(r",\s", rest, maxsplit=1)[0]
        first = clause.split(" ", 1)[0].lower()
        if first.endswith(("ly", "ed")) or _VERB.fullmatch(" " + first) or first in _NOT_MAIN:
            continue  # "…, largely resulting from …": a participle clause, not the main one
        if _VERB.search(" " + clause) or re.match(r"(?:they|it|there|we)\b", clause, re.IGNORECASE):
            return rest
    return None


def drop_first_person(text: str) -> str:
    """ "We find that X." → "X."; "We study whether X." → "The question: whether X."; "The gap, whereas
    we explore Y." → "The gap."; `text` itself (the same object) when there is no such frame."""
    frame = _FIRST_PERSON_FRAME.match(text)
    if frame and len(text[frame.end() :].split()) >= _MIN_WORDS:
        label = frame.group("label")
        if label and _GAP_NOUN.search(label):  # "we identify a key limitation: X" → "A key limitation: X"
            return f"{capitalise(label)}: {text[frame.end() :]}"
        return capitalise(text[frame.end() :])
    question = _QUESTION_FRAME.match(text)
    if question and len(text[question.end() :].split()) >= _MIN_WORDS:
        return "The question: " + text[question.end() :]
    tail = _OWN_TAIL.search(text)
    head = text[: tail.start()] if tail else ""
    if (
        tail
        and not _FIRST_PERSON.search(head)
        and len(head.split()) >= _MIN_WORDS
        and not _LEAD_IN.match(head)
    ):
        return text[: tail.start()] + "."
    return text


# An abstract's list item ("(2) High API costs: RL needs …"): the marker and the label point at a list
# the reader of a digest does not see; the sentence after the colon carries the gap.
_LIST_MARKER = re.compile(r"^(?:\((?:\d{1,2}|[ivx]{1,4}|[a-h])\)|(?:\d{1,2}|[ivx]{1,4}|[a-h])\))\s+")
_ITEM_LABEL = re.compile(r"^(?:[A-Z][\w'-]*\s+){0,5}[A-Z][\w'-]*:\s+(?=[^\W\d_])")


def unlist(text: str) -> str:
    """`text` without a list marker and, after one, a Title-Case label ending in a colon."""
    marker = _LIST_MARKER.match(text)
    if marker is None:
        return text
    item = text[marker.end() :]
    label = _ITEM_LABEL.match(item)
    return capitalise(item[label.end() :] if label and len(item) - label.end() >= 40 else item)


def lead_with_gap(text: str, previous: str | None = None) -> str:
    """`text` (one problem sentence) rewritten to lead with the gap in the digest's framing, or
    unchanged when no rule applies safely. `previous` is the sentence before it in the abstract."""
    text = unlist(text)
    body = _LEADING_CONTRAST.sub("", text)
    rewritten = body
    rewritten = drop_first_person(rewritten)
    if _CONCESSION.match(rewritten):
        clause = _main_clause(rewritten)
        # "Despite progress in VLMs, their …": the concession names only what "their" can mean. After
        # "While X did Y," a "their" may mean X or Y: no guess.
        concession = re.sub(r"^\w+(?: though)?\s+", "", rewritten)
        if re.match(r"(?:despite|notwithstanding)\b", rewritten, re.IGNORECASE):
            concession_subject = subject(concession + " is")
        elif clause is not None and re.match(r"(?:it|they)\s", clause, re.IGNORECASE):
            # "While X shows promise, it struggles…": the subject pronoun is X (named before a verb).
            concession_subject = subject(concession, verb_required=True)
        else:
            concession_subject = None
        if clause is not None:
            clause = drop_first_person(clause)
            resolved = None if _BARE_DEFINITE.match(clause) else resolve(clause, concession_subject)
            if resolved is not None and not _FIRST_PERSON.match(resolved):
                rewritten = resolved
    turn = _TURN.search(rewritten) or _SHARED_TURN.search(rewritten)
    if turn is not None and not _names_a_flaw(rewritten[: turn.start()]):
        before, after = rewritten[: turn.start()], rewritten[turn.end() :]
        shared = bool(_VERB.match(" " + after) or _COPULA_GAP.match(after))
        if turn.re is _SHARED_TURN or shared:
            # "X excels at A but relies on B": the subject is shared, the gap is the second predicate.
            rewritten = _shared_subject_gap(before, after) or rewritten
        elif not _BARE_DEFINITE.match(after) and (
            _CLAUSE_START.match(after) or not after.split(" ", 1)[0].endswith("s")
        ):
            resolved = resolve(after, subject(before))
            if resolved is not None:
                rewritten = resolved
    if rewritten is body:
        return text  # nothing moved: the sentence as the summarizer had it
    if reads_alone(rewritten):
        return capitalise(rewritten)
    resolved = resolve(rewritten, subject(previous) if previous else None)
    return resolved if resolved is not None else text


def standalone(text: str, previous: str | None) -> str | None:
    """A sentence that leans on the one before ("In contrast, …", "They …", "Their …") made to read
    alone by dropping the link or naming the subject of `previous`; None when that can't be done."""
    body = _LINK.sub("", text)
    first = body.split(" ", 1)[0].lower()
    if _BACK_REFERENCE.match(body) and first not in {"they", "their", "it", "its", "these", "those", "such"}:
        return None  # "For example, …", "Both …": no link to drop, no subject to name
    return resolve(body, subject(previous) if previous else None)
