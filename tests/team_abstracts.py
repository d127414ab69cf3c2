"""Abstracts written by the team for the summarizer tests: invented papers, methods and numbers, in the
shapes real arXiv abstracts take (background, problem, "we propose", results with numbers, released
code, LaTeX and HTML left in by authors). No text here is copied from a real paper.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TeamAbstract:
    key: str
    title: str
    abstract: str


ROUTING = TeamAbstract(
    "routing",
    "RouteMix: Token Routing for Cheaper Long-Context Inference",
    "Large language models are increasingly deployed on documents of hundreds of thousands of tokens. "
    "However, attention over such contexts remains prohibitively expensive, and existing sparse methods "
    "lose accuracy on retrieval-heavy tasks. We propose \\textit{RouteMix}, a router that sends each "
    'token either to full attention or to a Nystr\\"om approximation. On the LongBench suite, RouteMix '
    "reduces latency by $10.9\\%$ at equal accuracy and is up to $3.2\\times$ faster than dense attention "
    "on 128k-token inputs. Code is available at https://github.com/example-lab/routemix.",
)

SHORTCUTS = TeamAbstract(
    "shortcuts",
    "When Chains of Thought Take Shortcuts",
    "Chain-of-thought prompting has become the default way to elicit reasoning from language models. "
    "Yet the traces it produces contain substantial redundancy: steps are repeated, verified twice, or "
    "abandoned. This redundancy inflates inference cost without improving accuracy. We introduce TRIM, "
    "a decoding method that detects and skips redundant steps. Experiments on four math benchmarks show "
    "that TRIM shortens traces by 38% while accuracy improves by 1.7 points on average.",
)

DATASETS = TeamAbstract(
    "datasets",
    "Recipes for Instruction Data from Image Metadata",
    "While many visual instruction datasets are available, most are assembled with one-off scripts "
    "written independently by different groups. They are often poorly documented, lack reproducible "
    "code, and depend on paid, closed model APIs to turn labels into instructions. We address these "
    "challenges with an open recipe for converting metadata into instructions using open models. The "
    "recipe matches the quality of closed-model data and improves downstream accuracy by 4% on average. "
    "We release the code, the model weights and the dataset.",
)

REPORT = TeamAbstract(
    "report",
    "Falcon-Q Technical Report",
    "We present Falcon-Q, the latest release of an open family of language models. Falcon-Q comprises "
    "dense and mixture-of-experts models designed to advance efficiency and multilingual coverage. A key "
    "innovation in Falcon-Q is a unified thinking mode that switches between fast and slow answers. "
    "Serving multilingual users remains difficult because most open models are trained mainly on English. "
    "Falcon-Q achieves state-of-the-art results on 12 of 15 multilingual benchmarks.",
)

METRICS = TeamAbstract(
    "metrics",
    "Ranking-Aware Losses for Retrieval",
    "Standard metrics used to train existing retrieval models ignore the order in which documents are "
    "shown, although users rarely read past the first few results. Our method is more parameter-efficient "
    "than previous rerankers and needs no labelled pairs. We propose a ranking-aware loss that weights "
    "errors by position. It improves nDCG@10 by 5.1 percentage points on three benchmarks.",
)

LONG = TeamAbstract(
    "long",
    "CRANE: Multi-Agent Repair of Configuration Bugs",
    "Configuration bugs cause a large share of production outages, yet they are hard to localise because "
    "the failing setting and the symptom are often far apart. We present CRANE, a multi-agent system in "
    "which a planner, a searcher and a verifier cooperate over the configuration graph, with a shared "
    "memory of failed attempts, a budget controller that stops unpromising branches, and a replay "
    "module that turns every fixed bug into a new test case for later runs, which is what lets it keep "
    "improving over time. In order to measure progress fairly across tools and settings, this paper "
    "constructs a benchmark of 512 real-world incidents with verified fixes, covering web servers, "
    "databases and container platforms alike. CRANE repairs 61% of the incidents, against 34% for the "
    "strongest single-agent baseline.",
)

SURVEY = TeamAbstract(
    "survey",
    "A Survey of Memory in Language Agents",
    "Language agents need memory to act over long horizons. Memory designs differ widely across systems, "
    "and little work compares them. This survey organises memory mechanisms into a taxonomy, reviews how "
    "they are evaluated, and lists open problems for future research.",
)

MARKUP = TeamAbstract(
    "markup",
    "Spectral Sketches for Kernel Attention",
    "<b>Kernel attention</b> is attractive for long inputs, but its approximation error \\< grows "
    "quickly with sequence length, which limits its use in practice. We propose a spectral sketch based "
    'on the Nystr\\"{o}m method and Erd\\H{o}s-style random graphs. The sketch cuts memory by '
    "$4\\times$ and keeps error below $10^{-3}$ on the {\\em LRA} benchmark.",
)

# Shapes that open on background or on the authors themselves, for the Why's editorial framing.
CONCESSION = TeamAbstract(
    "concession",
    "ChorusASR: Separating Speakers Before Decoding",
    "Despite rapid progress in speech recognition, transcribing overlapping speakers in noisy meeting "
    "rooms remains unreliable, with most errors in short interjections. We propose ChorusASR, which "
    "separates speakers before decoding. ChorusASR lowers word error rate by 18% on two meeting corpora.",
)

TURN = TeamAbstract(
    "turn",
    "Grounded Tables: Checking the Numbers in Generated Reports",
    "Large language models (LLMs) have made drafting financial reports fast, but their figures often "
    "disagree with the source tables. We introduce a checker that aligns each generated number with a "
    "table cell. The checker flags 92% of wrong figures while raising few false alarms.",
)

THEY = TeamAbstract(
    "they",
    "Reading Stacked Bars",
    "Vision-language models have become common assistants for reading charts. They still fail to read "
    "stacked bars and dual axes, which leads to wrong answers in finance and science reports. We present a "
    "chart-parsing pretext task for pre-training. It improves chart question answering by 6.5 points.",
)

FINDING = TeamAbstract(
    "finding",
    "Padding Pays: Length Bias in Short-Answer Reward Models",
    "We find that reward models trained on short answers are biased towards length and fail to penalise "
    "padded responses. We propose a length-balanced training objective for reward models. The objective "
    "cuts the preference for padded answers by 40% without hurting accuracy.",
)

LIMITATION = TeamAbstract(
    "limitation",
    "Agents That Test Their Own Code",
    "Despite strong benchmark scores, we identify a key limitation of code agents: they rarely run the "
    "tests they write before submitting a patch. We introduce a test-first policy that makes the agent "
    "execute its tests. The policy raises the share of passing patches from 41% to 57%.",
)

SHARED = TeamAbstract(
    "shared",
    "Pruning Idle Experts",
    "Sparse mixture-of-experts models are easy to scale but suffer from idle experts that waste "
    "accelerator memory. We propose an online pruning rule that folds idle experts into active ones. "
    "Memory use falls by 31% at equal quality.",
)

AMBIGUOUS = TeamAbstract(
    "ambiguous",
    "Retrieval for Low-Resource Languages",
    "While recent studies have scaled dense retrieval to billions of passages, their use in low-resource "
    "languages remains underexplored. We build a retriever trained on translated queries. It improves "
    "recall by 9% on six languages.",
)

INSIDE = TeamAbstract(
    "inside",
    "Drafting Incident Reports from Logs",
    "High-quality incident reports are essential for learning from outages. Writing them by hand remains "
    "slow and error-prone, so many teams skip the step entirely. We propose a drafting assistant that "
    "reads logs and chat transcripts. Engineers accepted 70% of its drafts with minor edits.",
)

BARE = TeamAbstract(
    "bare",
    "Federated Fine-Tuning Under a Budget",
    "Recently, federated fine-tuning has shown that many small clients can adapt large models together, "
    "yet the key trade-offs remain unclear. We measure accuracy, traffic and privacy across 12 client "
    "settings. Sending adapters instead of gradients cuts traffic by 85%.",
)

DEMONSTRATIVE = TeamAbstract(
    "demonstrative",
    "Triage for Review-Bot Comments",
    "Automated review bots now comment on most pull requests in large open-source projects. This "
    "popularity hides a cost: maintainers spend hours each week dismissing low-value comments. We "
    "propose a triage model that ranks comments by expected usefulness. It halves dismissal time.",
)

EDITORIAL = (CONCESSION, TURN, THEY, FINDING, LIMITATION, SHARED, AMBIGUOUS, INSIDE, BARE, DEMONSTRATIVE)
ALL = (ROUTING, SHORTCUTS, DATASETS, REPORT, METRICS, LONG, SURVEY, MARKUP, *EDITORIAL)
BY_KEY = {a.key: a for a in ALL}
