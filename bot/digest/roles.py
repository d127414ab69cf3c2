"""What each sentence of an abstract does: states a problem, claims a contribution, reports a result,
leans on the sentence before it. Cue words and position, no model: deterministic and fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _cues(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


_PROBLEM = _cues(
    r"\bhowever\b|^(?:yet|but)\b",
    r"\bobstacles?\b|\bbarriers?\b|\bdrawbacks?\b|\bshortcomings?\b|\bpitfalls?\b",
    r"\bremains?\b",
    r"\bchalleng",
    r"\blimit(?:ed|ation|ations|s)\b",
    r"\bstruggl",
    r"\bsuffers?\b",
    r"\black(?:s|ing)?\b",
    r"\bcostly\b|\bexpensive\b|\bprohibitive",
    r"\bdifficult|\bhard to\b",
    r"\bbottleneck",
    r"\bgaps?\b",
    r"\bproblems?\b|\bissues?\b",
    r"\bfail",
    r"\bdespite\b",
    r"\bunclear\b|\bunknown\b|\bunder-?explored\b|\blittle (?:is|work|attention)\b",
    r"\bhinder|\bimpede|\bprevent",
    r"\bcannot\b|\bunable\b|\binsufficient|\binadequate",
    r"\bopen question",
    r"\b(?:existing|current|prior|previous|traditional|conventional|most) "
    r"(?:methods|approaches|work|models|systems|techniques)\b",
    r"\bunreliab|\bbrittle\b|\bvulnerab|\brisk",
    r"\boverlook|\bneglect|\bignor|\bcosts?\b|\bscarc|\bredundan",
)
# "Uniquely challenging problems", "complex reasoning problems": the tasks a paper works on, not a
# gap it addresses. Each such phrase takes back the problem cue(s) it matched.
_HARD_TASK = re.compile(
    r"\bchalleng\w* (?:\w+ )?(?:problems|tasks|benchmarks|questions|domains|scenarios|settings|"
    r"environments|puzzles)\b|"
    r"\b(?:complex|math(?:ematical)?|reasoning|coding|programming|competition|olympiad|real-world|"
    r"open-ended|multi-step|optimi[sz]ation|decision|search|solving|unseen|novel) problems\b",
    re.IGNORECASE,
)
_IMPORTANCE = _cues(
    r"\bcrucial\b|\bcritical\b|\bessential\b|\bimportant\b|\bfundamental\b|\bkey\b",
    r"\bincreasingly\b|\bgrowing\b|\bwidely\b|\bubiquitous\b|\bpromising\b|\brapid",
    r"\bapplications?\b|\breal-world\b|\bpractical\b",
)
_CONTRIBUTION = _cues(
    r"\bwe (?:first )?(?:propose|introduce|present|develop|design|describe|formulate|build|release|"
    r"construct|contribute|devise|establish|create|curate|offer)",
    r"\b(?:this|our) (?:paper|work|study|article|report|survey|review)\b",
    r"\bin this (?:paper|work|study)\b",
    r"\bhere,? we\b",
    r"\bnovel\b",
    r"\bcalled\b|\bdubbed\b|\bnamed\b|\btermed\b",
    r"^to (?:address|tackle|overcome|bridge|solve|fill|mitigate|alleviate|close) (?:this|these|the|such)\b",
)
_STRONG_CONTRIBUTION = _cues(
    r"\bwe (?:first )?(?:propose|introduce|present|develop|design|formulate|build|release|construct|"
    r"devise|create|curate)",
    r"\b(?:this|our) (?:paper|work|study) (?:proposes|introduces|presents|develops)",
    r"\bin this (?:paper|work|study)\b",
)
_RESULT = _cues(
    r"\boutperform",
    r"\bimprov",
    r"\bachiev",
    r"\bstate[- ]of[- ]the[- ]art\b|\bsota\b",
    r"\bsurpass|\bexceed|\bbeat",
    r"\b(?:results|experiments|evaluations?|analys[ie]s|studies) (?:\w+ )?(?:show|demonstrate|indicate|"
    r"reveal|confirm|suggest)",
    r"\bwe (?:show|find|demonstrate|observe|report|prove)\b",
    r"\breduc",
    r"\b(?:faster|better|higher|lower|fewer|stronger|smaller|larger|cheaper)\b",
    r"\bup to\b",
    r"\bspeed-?ups?\b",
    r"\bgains?\b",
    r"\bconsistently\b|\bsignificantly\b|\bsubstantially\b|\bmarkedly\b",
    r"\bcompetitive\b|\bmatch(?:es|ing)?\b|\brobust",
)
_QUANTITY = re.compile(r"\d(?:[\d.,]*\d)?\s?(?:%|×|x\b|-?fold\b|points?\b|pp\b|times\b)", re.IGNORECASE)
_NUMBER = re.compile(r"\d")
_LEADING_CONTRAST = re.compile(
    r"^(?:however|yet|but|nevertheless|nonetheless|unfortunately|still|furthermore|moreover|"
    r"additionally|in addition|also|notably),?\s+",
    re.IGNORECASE,
)
_LEADING_FRAMING = re.compile(r"^(?:in this (?:paper|work|study)|here),?\s+(?=we\b)", re.IGNORECASE)
# A sentence that opens on one of these leans on the sentence before it ("They are often poorly
# documented…", "This leads to high costs…", "In contrast, …"): alone, it names nothing.
_BACK_REFERENCE = re.compile(
    r"^(?:they|them|their|theirs|these|those|this|that|it|its|such|both|another|"
    r"the (?:latter|former|above|aforementioned|same|resulting)|"
    r"thus|therefore|hence|consequently|as a (?:result|consequence)|accordingly|in (?:contrast|turn)|"
    r"by contrast|conversely|in particular|specifically|for (?:example|instance)|instead|meanwhile|"
    r"similarly|likewise|second(?:ly)?|third(?:ly)?|finally|lastly|then|further|otherwise|even so|"
    r"to (?:this|that) end)(?![\w-])",
    re.IGNORECASE,
)
# "It remains unclear whether…", "It is well known that…": an "it" that stands for nothing.
_DUMMY_IT = re.compile(
    r"^it (?:is|was|remains|has (?:long )?been|becomes|seems|appears) "
    r"(?!(?:a|an|the|not|designed|used|trained|built|able|capable|based|composed|implemented|"
    r"intended|meant|also|then|therefore|thus)\b)(?:[\w-]+ ){0,3}?(?:to|that|whether|how|why|what|if)\b",
    re.IGNORECASE,
)
# "This paper…", "This study…" names the paper itself, not something said before.
_SELF_REFERENCE = re.compile(
    r"^(?:this|the present) (?:paper|work|study|article|report|review|survey|dissertation|thesis|"
    r"chapter|letter|manuscript|technical report|position paper|tutorial)\b",
    re.IGNORECASE,
)
# Claims of novelty beyond the contribution cues: "a key innovation of X is…".
_NOVELTY = _cues(
    r"\b(?:key|main|core|central|major) (?:innovation|contribution|novelty|idea|feature)s?\b",
)
# A sentence about the authors' own work (or naming their method) describes the contribution, not
# the problem it answers.
_OWN_WORK = _cues(
    r"\b(?:we|our|us)\b",
    r"^(?:this|the present) (?:paper|work|study|article|report|review|survey|dissertation|thesis|"
    r"chapter|letter|manuscript|technical report)\b",
    r"\bin this (?:paper|work|study|article|report|review|survey)\b",
)
# "We study whether…", "We address the challenge of…": the authors asking the question, which is
# what a Why tells.
_FRAMING = re.compile(
    r"\bwe (?:study|consider|investigate|examine|address|tackle|focus on|revisit|explore|ask)\b",
    re.IGNORECASE,
)
# "Code is available at https://…": never a reason to read the paper.
_BOILERPLATE = _cues(
    r"https?://|\bgithub\.com\b|\burl\b",
    r"\bavailable (?:at|on|from|online)\b|\b(?:publicly|freely|openly) (?:available|released|accessible)\b",
    r"\b(?:is|are|will be) (?:released|open-sourced)\b",
)
# The name a title gives its method ("Falcon-Q: Quantised…", "Falcon-Q Technical Report"): a sentence that
# names it describes the contribution. A lone word before a colon, except a genre ("Position: …").
_TITLE_NAME = re.compile(
    r"^\s*([A-Za-z0-9][\w.+-]*[\w+])(?:\s*:|\s+(?:technical report|system card)\b)", re.I
)
_NOT_A_NAME = frozenset(
    {
        "position",
        "survey",
        "review",
        "tutorial",
        "editorial",
        "perspective",
        "perspectives",
        "commentary",
        "overview",
        "erratum",
        "correction",
        "note",
        "keynote",
        "abstract",
        "preprint",
        "report",
    }
)


def _title_name(title: str) -> str | None:
    match = _TITLE_NAME.match(title)
    if match is None or match.group(1).lower() in _NOT_A_NAME or len(match.group(1)) < 2:
        return None
    return match.group(1)


@dataclass(frozen=True, slots=True)
class _Sentence:
    index: int
    text: str
    problem: float
    importance: float
    contribution: float
    strong_contribution: bool
    result: float
    numbers: float
    # About the authors' own work ("we…", "this paper…", the title's method name): not a problem.
    own_work: bool = False
    # Opens on "They…", "This…", "In contrast…": needs the sentence before it to make sense.
    leans_back: bool = False
    # Says what is new ("we propose", "novel", "a key innovation"): not a problem, even where no
    # "we" says so.
    claims_novelty: bool = False
    # "We" sentences that still state the problem or question ("We study whether…", "Despite …,
    # we do not know…"), so may stand for the Why when they come before the contribution.
    frames_problem: bool = False
    # A link or "code is available": never a Why.
    boilerplate: bool = False


_BOILERPLATE_WORDS = ("http", "github", "url", "available", "released", "open-sourced")


def _is_boilerplate(text: str) -> bool:
    lowered = text.lower()  # a cheap test first: the pattern is slow, and rarely matches
    return any(word in lowered for word in _BOILERPLATE_WORDS) and bool(_BOILERPLATE.search(text))


def _count(pattern: re.Pattern[str], text: str) -> int:
    return len(pattern.findall(text))


def _analyse(sentences: list[str], name: str | None = None) -> list[_Sentence]:
    named = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])") if name else None
    analysed = []
    for index, text in enumerate(sentences):
        quantities = _count(_QUANTITY, text)
        numbers = 1 if _NUMBER.search(text) else 0
        body = _LEADING_CONTRAST.sub("", text)
        contribution = _count(_CONTRIBUTION, text)
        strong = bool(_STRONG_CONTRIBUTION.search(text))
        novel = bool(_NOVELTY.search(text))
        problem = max(0, _count(_PROBLEM, text) - _count(_HARD_TASK, text))
        analysed.append(
            _Sentence(
                index=index,
                text=text,
                problem=float(problem),
                importance=float(_count(_IMPORTANCE, text)),
                contribution=float(contribution),
                strong_contribution=strong,
                result=_count(_RESULT, text) + 2.0 * min(quantities, 2) + 0.5 * numbers,
                numbers=0.5 * numbers,
                own_work=strong or novel or bool(_OWN_WORK.search(text) or (named and named.search(text))),
                claims_novelty=novel or contribution > 0,
                frames_problem=not strong and not novel and bool(problem or _FRAMING.search(text)),
                boilerplate=_is_boilerplate(text),
                leans_back=index > 0
                and bool(_BACK_REFERENCE.match(body))
                and not _SELF_REFERENCE.match(body)
                and not _DUMMY_IT.match(body),
            )
        )
    return analysed


_FIRST_PERSON = re.compile(r"\b(?:we|our)\b", re.IGNORECASE)


def _problem_score(sentence: _Sentence) -> float:
    """How much a sentence states a problem: "we …" and "to address this issue" sentences don't."""
    penalty = 1.5 * sentence.contribution + (1.0 if _FIRST_PERSON.search(sentence.text) else 0.0)
    claims = sentence.result - sentence.numbers  # a year or a count doesn't make a result
    return sentence.problem + 0.5 * sentence.importance - 0.5 * claims - penalty
