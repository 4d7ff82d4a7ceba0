#!/usr/bin/env python3
"""
The differential table for es_slugify() (tests/unit/test-slug-table.c):
what the API's slugify (SPEC section 2) gives, as Python 3.11 (Unicode
14.0.0) runs it.

    python3 gen.py > slug-table.txt        write the table
    python3 gen.py --check slug-table.txt  regenerate and compare; exit 77
                                           (CTest's "skipped") unless this
                                           Python's Unicode data is 14.0.0

Records, one a line (after "#" comment lines):

    t "<title>" "<slug>"
        es_slugify(title) must be slug. The title is bytes: where it is not
        valid UTF-8, slug is slugify(title.decode("utf-8", "replace")), the
        meaning documented in slug.h.
    r <first> <last> <sigma> <kind> [<delta>]
        For every code point c from first to last (hex; the surrogates
        D800..DFFF are never in a range, UTF-8 cannot hold them):
        slugify("a" + chr(c) + "b") is "a" + chr(c + delta) + "b" for kind
        w (a word character, lower-cased), "a-b" for s (a separator), "ab"
        for d (dropped); and c's part in choosing a capital sigma's lower
        case (str.lower()'s Final_Sigma, Python's handle_capital_sigma())
        is sigma: i (case-ignorable, skipped), c (cased) or n (neither),
        seen as the last letter of slugify("\u0391" + chr(c) + "\u03a3")
        (final sigma for i and c), of slugify(chr(c) + "\u03a3") (final
        for c) and the second of slugify("\u0391\u03a3" + chr(c)) (final
        for i and n). Code points that fit none of these get t records.

Strings are quoted: printable ASCII stands for itself except '"' and '\\',
which are escaped; any other code point is \\uXXXX or \\UXXXXXXXX, and a byte
that is not valid UTF-8 is \\xXX.

Standard library only; the titles come from a seeded generator of our own
(not the random module), so they do not depend on Python's version.
"""

import re
import sys
import unicodedata

UNIDATA = "14.0.0"
SEED = 20240614
NTITLES = 6000


def slugify(text: str) -> str:
    """The API's function, verbatim (SPEC section 2)."""
    slug = text.lower().strip()
    slug = re.sub(r'[^\w\s-]', '', slug)
    slug = re.sub(r'[\s_-]+', '-', slug)
    slug = re.sub(r'^-+|-+$', '', slug)
    return slug


def slugify_bytes(raw: bytes) -> str:
    return slugify(raw.decode("utf-8", "replace"))


class Rng:
    """splitmix64: small, deterministic, the same on every Python."""

    def __init__(self, seed):
        self.s = seed & 0xFFFFFFFFFFFFFFFF

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def chance(self, percent):
        return self.below(100) < percent


def quote(raw: bytes) -> str:
    """A title or slug (bytes) as a quoted record field."""
    out = ['"']
    i = 0
    while i < len(raw):
        b = raw[i]
        if b < 0x80:
            ch = chr(b)
            if ch in '"\\':
                out.append("\\" + ch)
            elif 0x20 <= b < 0x7F:
                out.append(ch)
            else:
                out.append("\\u%04X" % b)
            i += 1
            continue
        # The longest valid UTF-8 sequence here, else one bad byte.
        for k in (4, 3, 2):
            try:
                ch = raw[i:i + k].decode("utf-8")
            except UnicodeDecodeError:
                continue
            if len(ch) == 1:
                c = ord(ch)
                out.append("\\u%04X" % c if c <= 0xFFFF else
                           "\\U%08X" % c)
                i += k
                break
        else:
            out.append("\\x%02X" % b)
            i += 1
    out.append('"')
    return "".join(out)


def u(*cps):
    return "".join(chr(c) for c in cps)


def span(first, last):
    return [chr(c) for c in range(first, last + 1)]


# Pieces of titles, by theme (the brief of issue 14 lists them).
ASCII_WORDS = ["Learn", "Rust", "DE", "Shaw", "TPM", "Role", "plan", "Q4",
               "v2", "C++", "Go", "foo_bar", "snake_case", "x", "API",
               "Review", "a", "I", "IO", "2025", "100%", "e-mail", "co-op",
               "don't", "R&D", "TODO:", "(draft)", "[wip]", "#1", "$5",
               "a.b", "key=value", "<tag>", "C#", "F#", "Node.js"]
PUNCT = list("!\"#$%&'()*+,./:;<=>?@[\\]^`{|}~") + ["-", "_", "--", "__"]
LATIN = span(0xC0, 0xFF) + span(0x100, 0x17F) + span(0x180, 0x24F) + \
    span(0x1E00, 0x1EFF)
ACCENT_WORDS = ["Café", "Münster", "Ünïcödé", "naïve", "Ærø", "Œuvre",
                "Ñandú", "Çà", "Ðð", "Þórr", "Łódź", "Straße", "STRASSE",
                "Ĳssel", "ǅemal", "Ǆemal", "ǈ", "ǋ", "ǲ", "ẞ", "Øre"]
COMBINING = span(0x300, 0x36F) + span(0x1AB0, 0x1ABE) + \
    span(0x1DC0, 0x1DFF) + span(0x20D0, 0x20F0) + span(0xFE20, 0xFE2F)
CJK = list("日本語の勉強中文字漢字学习计划") + \
    list("一二三四五六七八九十百千万億兆零〇壱弐参拾廿卅") + \
    span(0x4E00, 0x4E40) + span(0x3400, 0x3410) + \
    span(0x20000, 0x20010) + span(0xF900, 0xF910) + \
    [u(0xF96B), u(0xF973), u(0xF978), u(0xF9B2), u(0xF9D1), u(0xF9D3),
     u(0xF9FD), u(0x2F890)] + span(0x3041, 0x3096) + \
    span(0x30A1, 0x30FA) + ["ー", "ヽ", "ゝ", "々", "〻"] + \
    span(0xFF66, 0xFF9F)
EMOJI = ["🚀", "😀", "👍", "👍🏽", "👩\u200d💻", "👨\u200d👩\u200d👧",
         "🇩🇪", "🇯🇵", "1\ufe0f\u20e3", "#\ufe0f\u20e3", "❤\ufe0f", "☺",
         "✅", "🏳\ufe0f\u200d🌈", "🏴\U000e0067\U000e0062\U000e0065"
         "\U000e006e\U000e0067\U000e007f", "🙂", "🤖", "⭐"]
TURKISH = ["İ", "ı", "İstanbul", "ISPARTA", "ıspanak", "Iİıi", "DİYARBAKIR",
           "i̇", "I\u0307"]
GERMAN = ["ß", "ẞ", "Fußball", "GROẞ", "ſ", "ﬅ", "ﬆ"]
GREEK = ["ΟΔΟΣ", "Σ", "ΣΑΣ", "ΌΣΟΣ", "ΑΣ", "ΑΣΑ", "ΣΟΦΟΣ", "ΆΣΣΟΣ",
         "σς", "ς", "ϲ", "Ϲ", "ϹΣ", "ΑΣ'", "ΑΣ'Β", "ΑΣ.Β", "ΑΣ:Β",
         "ΑΣ\u00adΒ", "ΑΣ\u0301Β", "ΑΣ\u2019Β", "Α'Σ", "Α\u0301Σ", "'Σ",
         "Σ'", "ΑΣ1", "ΑΣ_", "ΑΣ-Β", "ΑΣ Β", "ᾼ", "ᾈ", "ᾟ", "ΐ",
         "ὈΔΥΣΣΕΎΣ", "ΣΊΣΥΦΟΣ", "Ͱ", "Ϳ", "ϴ", "ϐ", "ϑ", "ϕ", "Ω", "Ω",
         "ΑΣ\u0345", "\u0345", "ΑΣ\u1fbf", "ΑΣ\u02b0Β", "ΑΣ\u0640Β"]
SPACES = [" ", "\t", "\n", "\r", "\v", "\f", "\r\n", u(0x1C), u(0x1D),
          u(0x1E), u(0x1F), u(0x85), u(0xA0), u(0x1680)] + \
    span(0x2000, 0x200A) + [u(0x2028), u(0x2029), u(0x202F), u(0x205F),
                            u(0x3000)]
NOT_SPACES = [u(0x200B), u(0x180E), u(0xFEFF), u(0x2060), u(0x00AD),
              u(0x061C), u(0x200E), u(0x200F), u(0x202A), u(0x2066),
              u(0x115F), u(0x3164), u(0xFFA0), u(0x2800), u(0x00), u(0x01),
              u(0x7F), u(0x80), u(0x9F), u(0x1B)]
DASHES = ["-", "--", "_", "‐", "‑", "‒", "–", "—", "―", "⁃", "−", "﹣", "－",
          "﹘", "⸺", "〜", "～", "_-_", "-_-", "＿", "‿", "⁀", "⁔", "︳"]
DIGITS = list("0123456789") + span(0x660, 0x669) + span(0x6F0, 0x6F9) + \
    span(0x966, 0x96F) + span(0xFF10, 0xFF19) + \
    list("¹²³⁴⁵⁶⁷⁸⁹⁰₀₁₂₃½⅓¼¾⅐⅞↉") + span(0x2460, 0x2473) + \
    span(0x2474, 0x249B) + span(0x24EA, 0x24FF) + span(0x2776, 0x2793) + \
    span(0x3251, 0x325F) + span(0x32B1, 0x32BF) + span(0x3280, 0x3289) + \
    span(0x2160, 0x2188) + ["〇", "〡", "〩", "〸", "〺"] + \
    span(0x1D360, 0x1D378) + span(0x1D7CE, 0x1D7FF) + \
    span(0x10107, 0x10133) + span(0x1F100, 0x1F10C) + \
    span(0xE50, 0xE59) + span(0x1040, 0x1049) + span(0x1369, 0x137C) + \
    span(0x16EE, 0x16F0) + span(0x12400, 0x12410) + ["Ⅻ", "ⅻ", "ↂ"]
LIGATURES = ["ﬁ", "ﬂ", "ﬀ", "ﬃ", "ﬄ", "ﬅ", "ﬆ", "ﬓ", "ﬗ", "Ĳ", "ĳ", "Ǳ",
             "ǲ", "ǳ", "Ǆ", "Ꜳ", "Œ", "æ", "ᵫ"]
COMPAT = ["㎞", "㎏", "℃", "℉", "™", "℡", "№", "Ⓐ", "ⓐ", "🄰", "🅐", "K",
          "Å", "Ω", "ℌ", "ℍ", "ℓ", "℘", "ℵ", "ⅅ", "ｆｕｌｌ", "ＷＩＤＴＨ",
          "ﾊﾝｶｸ", "㍿", "㋿", "ǆ", "µ", "ª", "º", "ʰ", "ᵃ", "ꟹ", "ᴬ", "ⁱ",
          "ₐ", "㈱", "㊤", "〒", "ℎ", "𝐀", "𝔄", "𝕬", "𝒜", "𝖆", "ﹰ", "ﷺ",
          "ﷻ", "ﺍ", "ﻻ"]
HANGUL = span(0xAC00, 0xAC40) + ["한국어", "서울", "공부", "ㄱ", "ㅏ", "ㅎ"] + \
    span(0x1100, 0x1112) + span(0x1161, 0x1175) + span(0x11A8, 0x11C2) + \
    span(0x3131, 0x318E) + ["\u1100\u1161\u11a8", "\u1112\u1161\u11ab"]
ARABIC = span(0x621, 0x64A) + span(0x64B, 0x655) + \
    ["مرحبا", "العربية", "كِتَابٌ", "ـ", "\u0670", "\u06d6", "\u06dd",
     "\u0600", "\u061c", "\u200f", "ﻷ", "؟", "،", "٪", "٫", "٬"]
DEVANAGARI = span(0x905, 0x939) + span(0x93A, 0x94F) + \
    ["नमस्ते", "हिन्दी", "क्षत्रिय", "क़", "ॐ", "।", "॥", "ऽ", "\u0901",
     "\u0902", "\u0903", "\u093c", "\u094d\u200d", "\u094d\u200c",
     "\u0951", "\u0952"]
JOINERS = [u(0x200D), u(0x200C), u(0x034F), u(0x2060), u(0x180B),
           u(0x180F)] + span(0xFE00, 0xFE0F) + [u(0xE0100), u(0xE0101),
                                                u(0xE01EF)] + \
    span(0xE0020, 0xE0030) + [u(0xE0001), u(0xE007F)]
CASE_MISC = ["Ꭰ", "ꭰ", "Ᏸ", "ᏸ", "Ა", "ა", "Ⴀ", "ⴀ", "𐐀", "𐐨", "𐒰",
             "𞤀", "𞤢", "𖹀", "𑢠", "Ȿ", "Ɐ", "Ɑ", "ꞔ", "Ʞ", "ꟶ", "Ʂ",
             "ꓐ", "Ⓩ", "ǰ", "ŉ", "ΰ", "ẖ", "ﬓ", "Ա", "ա", "Ⰰ", "ⰰ",
             "Ⳁ", "Ꙁ", "Ꚁ", "ꬰ", "ꭜ", "ᲀ", "ᲈ", "ɐ", "ʼ", "ˆ", "ˀ"]
ODD = [u(0xE000), u(0xF8FF), u(0xF0000), u(0x10FFFD), u(0xFFFE), u(0xFFFF),
       u(0x10FFFF), u(0xFDD0), u(0xFFFD), u(0xFFFC), u(0x378), u(0x1E030),
       u(0x31350), u(0x2FFFF), u(0x1B11F), u(0x11F00), u(0x1E4D0),
       u(0xD7FB), u(0x1D2C0), u(0x10EFD), u(0x0870), u(0x1F6DC)]
OTHER_SCRIPTS = ["Привет", "мир", "ЁЖИК", "Ѐ", "Ԥ", "שלום", "עברית",
                 "ภาษาไทย", "ສະບາຍດີ", "ქართული", "Հայերեն", "ᚠᚢᚦ", "ᛉ",
                 "ꦗꦮ", "བོད", "ᠮᠣᠩᠭᠣᠯ", "ߒߞߏ", "ܣܘܪܝܝܐ", "ދިވެހި",
                 "தமிழ்", "తెలుగు", "ಕನ್ನಡ", "മലയാളം", "සිංහල",
                 "বাংলা", "ਪੰਜਾਬੀ", "ગુજરાતી", "ଓଡ଼ିଆ", "ᐃᓄᒃᑎᑐᑦ", "ꆈꌠ",
                 "𐌰𐌱", "𓀀𓀁", "𒀀", "Ⲁⲁ"]
BAD_BYTES = [b"\xff", b"\xfe", b"\x80", b"\xbf", b"\xc0\xaf", b"\xc1\xbf",
             b"\xe0\x80\xaf", b"\xe2\x82", b"\xed\xa0\x80", b"\xed\xbf\xbf",
             b"\xf4\x90\x80\x80", b"\xf5", b"\xf0\x9f", b"\xf0\x9f\x9a",
             b"\xc3", b"\xe2\x28\xa1", b"\xc3\x28"]

THEMES = [ASCII_WORDS, PUNCT, LATIN, ACCENT_WORDS, COMBINING, CJK, EMOJI,
          TURKISH, GERMAN, GREEK, SPACES, NOT_SPACES, DASHES, DIGITS,
          LIGATURES, COMPAT, HANGUL, ARABIC, DEVANAGARI, JOINERS, CASE_MISC,
          ODD, OTHER_SCRIPTS]
ENDS = ["-", "--", "_", "__", " ", "  ", "\t", " - ", "-_-", "!", "...",
        "—", "\u00a0", "\u3000", "\n", "\u0085", "\u001f", "(", ")", "'",
        "ΑΣ", "Σ", ""]

# Fixed titles: the brief's, SPEC section 2's and test-slug.c's examples.
FIXED = ["Learn Rust", "DE Shaw TPM Role", "C++ & Go!", "Café Münster",
         "日本語の勉強", "  a -- b  ", "Ünïcödé_Snake", "foo_bar",
         "Q4 2025: plan (v2)", "a - ! - b", "tab\tsep", "line\nbreak\r\nx",
         "x\x1cy", "__a__", "-_a_-", "a_-_b", "snake_case_name", "100%", "",
         "!!!", "🚀", " - ", "emoji 🚀 rocket", "ﬁle ½ ²", "ｆｕｌｌ　ｗｉｄｔｈ",
         "10\u00a0000", "Cafe\u0301", "e\u0301\u0301", "a\u0307", "Ⅻ th",
         "a\u200bb", "x\u0085y", "İstanbul", "ΟΔΟΣ", "ΌΣΟΣ ΣΑΣ", "Σ",
         "Ǆemal", "㎞", "ﬁ", "Personal Growth Systems", "Health & Fitness",
         ".NET Projects", ".hidden", "..", ".", "/etc", "../../.bashrc",
         "a/b", "a\\b", "_", "-", "a" * 300, "日" * 100, "ΑΣ" * 50,
         "\u2460\u2461\u2462", "\u00b2\u00b3", "一二三", "\u3007",
         "ⅰⅱⅲ", "Ⅰ Ⅱ Ⅲ", "I\u0307", "ΑΣ'", "ΑΣ'Β"]
FIXED_BYTES = [b"ab\xffcd", b"\xc0\xaf", b"\xff", b"\xce\x91\xce\xa3\xff",
               b"\xce\x91\xce\xa3\xff\xce\x92", b"\xce\xa3\xff",
               b"a\xed\xa0\x80b", b"\xe2\x82", b"\xe2\x82\xac\xe2\x82",
               b"foo\x80_bar", b"-\xff-", b"\xff \xff", b"\xf0\x9f\x9a\x80"
               b"\xf0\x9f\x9a"]


def title(rng: Rng) -> bytes:
    """One seeded title: a few pieces, mostly from one or two themes."""
    themes = [rng.pick(THEMES) for _ in range(1 + rng.below(2))]
    n = 1 + rng.below(8)
    parts = []
    for _ in range(n):
        if rng.chance(70):
            parts.append(rng.pick(rng.pick(themes)))
        else:
            parts.append(rng.pick(rng.pick(THEMES)))
        r = rng.below(10)
        if r < 5:
            parts.append(" ")
        elif r < 6:
            parts.append(rng.pick(SPACES + DASHES + PUNCT))
        elif r < 7 and parts[-1] and rng.chance(50):
            parts.append(rng.pick(COMBINING + JOINERS))
    s = "".join(parts)
    if rng.chance(30):
        s = rng.pick(ENDS) + s
    if rng.chance(30):
        s = s + rng.pick(ENDS)
    r = rng.below(10)
    if r == 0:
        s = s.upper()
    elif r == 1:
        s = s.title()
    raw = s.encode("utf-8")
    if rng.chance(4):
        at = rng.below(len(raw) + 1)
        raw = raw[:at] + rng.pick(BAD_BYTES) + raw[at:]
    return raw


def title_records():
    rng = Rng(SEED)
    seen = set()
    raws = [t.encode("utf-8") for t in FIXED] + FIXED_BYTES
    while len(raws) < len(FIXED) + len(FIXED_BYTES) + NTITLES:
        raws.append(title(rng))
    for raw in raws:
        if raw in seen:
            continue
        seen.add(raw)
        yield 't %s %s' % (quote(raw), quote(slugify_bytes(raw).encode()))


def sigma_class(ch):
    """
    ch's part in Final_Sigma: "i", "c" or "n" (see the docstring). Only
    lower() places sigmas, and slugify() keeps them where lower() put them
    (they are word characters), so lower() is asked: a third of the time.
    """
    before = ("\u0391" + ch + "\u03a3").lower()[-1] == "\u03c2"
    alone = (ch + "\u03a3").lower()[-1] == "\u03c2"
    after = ("\u0391\u03a3" + ch).lower()[1] == "\u03c2"
    if alone and before and not after:
        return "c"
    if before and not alone and after:
        return "i"
    if not before and not alone and after:
        return "n"
    return None


def shape(c):
    """The range shape of code point c, or None when it has none."""
    ch = chr(c)
    sigma = sigma_class(ch)
    got = slugify("a" + ch + "b")
    if sigma is None:
        return None
    if got == "a-b":
        return (sigma, "s")
    if got == "ab":
        return (sigma, "d")
    if len(got) == 3 and got[0] == "a" and got[2] == "b":
        return (sigma, "w", ord(got[1]) - c)
    return None


def range_records():
    run = None          # [first, last, shape]
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            k = "gap"
        else:
            k = shape(c)
        if run is not None and k == run[2] and c == run[1] + 1:
            run[1] = c
            continue
        if run is not None:
            yield run
        run = [c, c, k]
    yield run


def generate():
    out = ["# The API's slugify as Python 3.11 runs it (Unicode %s): "
           "see gen.py." % UNIDATA,
           "# Generated by tests/unit/slug-table/gen.py; do not edit."]
    out.extend(title_records())
    for first, last, k in range_records():
        if k == "gap":
            continue
        if k is None:
            for c in range(first, last + 1):
                for t in ("a%sb", "\u0391%s\u03a3", "%s\u03a3",
                          "\u0391\u03a3%s"):
                    raw = (t % chr(c)).encode("utf-8")
                    out.append('t %s %s' % (quote(raw), quote(
                        slugify(raw.decode()).encode())))
            continue
        rec = "r %04X %04X %s %s" % (first, last, k[0], k[1])
        if k[1] == "w":
            rec += " %d" % k[2]
        out.append(rec)
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) == 3 and argv[1] == "--check":
        if unicodedata.unidata_version != UNIDATA:
            print("skipped: this python3 has Unicode %s, the table is "
                  "Python 3.11's %s" % (unicodedata.unidata_version,
                                        UNIDATA))
            return 77
        want = generate().splitlines()
        with open(argv[2], encoding="ascii") as f:
            have = f.read().splitlines()
        bad = 0
        for i in range(max(len(want), len(have))):
            w = want[i] if i < len(want) else "(none)"
            h = have[i] if i < len(have) else "(none)"
            if w == h:
                continue
            bad += 1
            if bad <= 5:
                print("%s:%d: committed %s\n%s:%d: python3   %s" %
                      (argv[2], i + 1, h, argv[2], i + 1, w))
        if bad:
            print("%d lines differ: regenerate with python3 gen.py > %s" %
                  (bad, argv[2]))
            return 1
        print("%d lines match" % len(want))
        return 0
    if len(argv) != 1:
        print("usage: gen.py [--check TABLE]", file=sys.stderr)
        return 2
    if unicodedata.unidata_version != UNIDATA:
        print("gen.py: this python3 has Unicode %s, want %s (Python 3.11)"
              % (unicodedata.unidata_version, UNIDATA), file=sys.stderr)
        return 1
    sys.stdout.write(generate())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
