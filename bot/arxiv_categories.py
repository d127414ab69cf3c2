"""arXiv's category taxonomy: which category names exist, so an import can refuse made-up ones.

`bot.arxiv_ids.is_valid_category` only checks the shape of a name; a bulk file can hold anything of
that shape. This is the published taxonomy (https://arxiv.org/category_taxonomy), plus the archives
that papers from before subject classes still carry (`hep-th`, `astro-ph`, `cond-mat`, and the
retired ones such as `cmp-lg` or `funct-an` that the metadata snapshot still lists).
"""

from __future__ import annotations

_SUBJECTS: dict[str, str] = {
    "cs": "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS NA NE NI "
    "OH OS PF PL RO SC SD SE SI SY",
    "econ": "EM GN TH",
    "eess": "AS IV SP SY",
    "math": "AC AG AP AT CA CO CT CV DG DS FA GM GN GR GT HO IT KT LO MG MP NA NT OA OC PR QA RA RT SG SP ST",
    "astro-ph": "CO EP GA HE IM SR",
    "cond-mat": "dis-nn mes-hall mtrl-sci other quant-gas soft stat-mech str-el supr-con",
    "nlin": "AO CD CG PS SI",
    "physics": "acc-ph ao-ph app-ph atm-clus atom-ph bio-ph chem-ph class-ph comp-ph data-an ed-ph "
    "flu-dyn gen-ph geo-ph hist-ph ins-det med-ph optics plasm-ph pop-ph soc-ph space-ph",
    "q-bio": "BM CB GN MN NC OT PE QM SC TO",
    "q-fin": "CP EC GN MF PM PR RM ST TR",
    "stat": "AP CO ME ML OT TH",
}

# Archives without subject classes, current and retired; a few old papers carry the bare archive of
# one that has classes today (`astro-ph`, `cond-mat`, `physics`, `q-bio`, `nlin`, `math`, `cs`).
_ARCHIVES = (
    "gr-qc hep-ex hep-lat hep-ph hep-th math-ph nucl-ex nucl-th quant-ph "
    "astro-ph cond-mat physics q-bio q-fin nlin math cs stat econ eess "
    "acc-phys adap-org alg-geom ao-sci atom-ph bayes-an chao-dyn chem-ph cmp-lg comp-gas dg-ga "
    "funct-an mtrl-th patt-sol plasm-ph q-alg solv-int supr-con"
)

KNOWN_CATEGORIES: frozenset[str] = frozenset(
    [f"{archive}.{subject}" for archive, subjects in _SUBJECTS.items() for subject in subjects.split()]
    + _ARCHIVES.split()
)


def is_known_category(name: str) -> bool:
    """True for a category arXiv has (or had), e.g. `cs.LG`, `hep-th`, `cmp-lg`; False for `cs.XX`."""
    return name in KNOWN_CATEGORIES
