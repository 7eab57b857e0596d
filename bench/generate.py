"""A seeded synthetic data directory in the real schema, for benchmarks and scale tests.

    python bench/generate.py --agreements 10000 [--places M] [--seed 1] OUTPUT_DIR

writes OUTPUT_DIR/places.csv, OUTPUT_DIR/agreements.yaml and OUTPUT_DIR/sources/*.txt that
`geomap validate` accepts. Places lie in the Yangtze River Delta: jittered around the real
county seats of Jiangsu, Zhejiang and Anhui (cpca's adcode table, as geomap's own offline
gazetteer reads it), each inside its province's box (geomap.geocode.offline.province_bbox), so
validation passes. The Shanghai side is Shanghai, its districts and a few sites. Partners are
drawn with a skew (a few cities sign many agreements, most places few), as in the real data.

The same arguments give byte-identical files: runs repeat.

From Python: `generate(out_dir, agreements=10_000, places=None, seed=1) -> Path`.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from geomap.geocode.offline import adcode_table, province_bbox  # noqa: E402
from geomap.records import AGREEMENT_TYPES, PLACE_COLUMNS, SECTORS  # noqa: E402

# Yangtze River Delta: Shanghai, Jiangsu, Zhejiang, Anhui.
PARTNER_PROVINCES = {"32": "Jiangsu", "33": "Zhejiang", "34": "Anhui"}
SYLLABLES = ("an", "bei", "chang", "dong", "feng", "gu", "hai", "hua", "jia", "jin", "kang",
             "lin", "long", "mei", "nan", "ning", "ping", "qing", "rui", "shan", "tai", "wu",
             "xi", "xin", "yang", "yong", "yu", "ze", "zhen", "zhou")
KINDS = (("zone", 5), ("site", 3), ("district", 2), ("county", 2), ("county-city", 1),
         ("prefecture-city", 1))
KIND_EN = {"zone": "Development Zone", "site": "Innovation Center", "district": "District",
           "county": "County", "county-city": "City", "prefecture-city": "City"}
KIND_ZH = {"zone": "经济开发区", "site": "创新中心", "district": "新区", "county": "县",
           "county-city": "市", "prefecture-city": "市"}
SHANGHAI_SITES = (  # id, name_en, name_zh, kind, adcode
    ("shanghai", "Shanghai", "上海市", "municipality", "310000"),
    ("qingpu", "Qingpu District", "青浦区", "district", "310118"),
    ("pudong", "Pudong New Area", "浦东新区", "district", "310115"),
    ("minhang", "Minhang District", "闵行区", "district", "310112"),
    ("jiading", "Jiading District", "嘉定区", "district", "310114"),
    ("songjiang", "Songjiang District", "松江区", "district", "310117"),
    ("shanghai-stock-exchange", "Shanghai Stock Exchange", "上海证券交易所", "site", "310115"),
    ("shanghai-international-convention-center", "Shanghai International Convention Center",
     "上海国际会议中心", "site", "310115"),
)
TOPICS_EN = ("technology transfer", "industrial park", "talent exchange", "green energy",
             "port logistics", "digital economy", "biomedicine cluster", "tourism corridor",
             "R&D platform", "healthcare alliance", "innovation fund", "urban renewal")
TOPICS_ZH = ("技术转移", "产业园区", "人才交流", "绿色能源", "港口物流", "数字经济", "生物医药集群",
             "文旅走廊", "研发平台", "医疗联盟", "创新基金", "城市更新")
TYPE_EN = {"sub-center": "sub-center", "strategic-agreement": "strategic cooperation agreement",
           "framework-agreement": "framework agreement", "work-plan": "work plan",
           "project": "project", "forum": "cooperation forum"}
TYPE_ZH = {"sub-center": "分中心", "strategic-agreement": "战略合作协议", "framework-agreement": "框架协议",
           "work-plan": "工作方案", "project": "项目", "forum": "合作论坛"}
ROLES = ("signatory", "signatory", "witness", "speaker", "attended")
PUBLISHERS = ("Shanghai Daily", "Zhejiang Daily", "Xinhua", "Jiangsu Government", None)
SOURCE_DOCS = 40


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3)))).capitalize()


def _coord(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".")


def _places(rng: random.Random, m: int) -> tuple[list[dict], list[str]]:
    """The Shanghai side, then m partner places; returns (rows, partner ids)."""
    table = adcode_table()
    rows = []
    for sid, en, zh, kind, code in SHANGHAI_SITES:
        _, lon, lat = table.get(code, ("", 121.47, 31.23))
        if kind == "site":
            lon, lat = lon + rng.uniform(-0.03, 0.03), lat + rng.uniform(-0.02, 0.02)
        rows.append({"id": sid, "name_en": en, "name_zh": zh, "kind": kind, "province": "Shanghai",
                     "prefecture": "", "adcode": code, "lon": _coord(lon), "lat": _coord(lat),
                     "precision": "8" if kind != "site" else "2",
                     "source": "synthetic: bench/generate.py"})
    seats = sorted((code, name, lon, lat) for code, (name, lon, lat) in table.items()
                   if code[:2] in PARTNER_PROVINCES and not code.endswith("00"))
    boxes = {p: province_bbox(p) for p in PARTNER_PROVINCES.values()}
    kinds, weights = zip(*KINDS)
    ids = []
    for i in range(m):
        code, county, lon0, lat0 = rng.choice(seats)
        province = PARTNER_PROVINCES[code[:2]]
        w, s, e, n = boxes[province]
        lon = min(max(lon0 + rng.gauss(0, 0.06), w + 0.01), e - 0.01)
        lat = min(max(lat0 + rng.gauss(0, 0.06), s + 0.01), n - 0.01)
        kind = rng.choices(kinds, weights)[0]
        name = _name(rng)
        pid = f"{name.lower()}-{kind}-{i:05d}"
        rows.append({
            "id": pid, "name_en": f"{name} {KIND_EN[kind]} {i}", "name_zh": f"{county}{name[:2]}{KIND_ZH[kind]}{i}",
            "kind": kind, "province": province, "prefecture": "", "adcode": code,
            "lon": _coord(lon), "lat": _coord(lat), "precision": "2",
            "source": f"synthetic: jittered around cpca {code}",
        })
        ids.append(pid)
    return rows, ids


def _q(value) -> str:
    """A YAML scalar: JSON's quoting is valid YAML, and fast to write."""
    return json.dumps(value, ensure_ascii=False)


def _agreement(rng: random.Random, i: int, partner_ids: list[str], cum: list[float],
               names: dict[str, str]) -> str:
    atype = rng.choice(AGREEMENT_TYPES)
    n_partners = rng.choices((1, 2, 3), (85, 10, 5))[0]
    partners = list(dict.fromkeys(rng.choices(partner_ids, cum_weights=cum, k=n_partners)))
    site = rng.choices([s[0] for s in SHANGHAI_SITES], (30, 8, 6, 4, 4, 4, 2, 2))[0]
    topic = rng.randrange(len(TOPICS_EN))
    date = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(14 * 365))
    precision = rng.choices(("day", "month", "year"), (85, 10, 5))[0]
    sectors = sorted(rng.sample(SECTORS, rng.choice((1, 1, 2, 3))))
    value = rng.choice((None, None, None, rng.randrange(1, 2000) * 10_000_000, rng.randrange(1, 9999) * 10_000))
    where = names[partners[0]]
    parties = [{"name": f"{names[p]} People's Government", "role": "signatory"} for p in partners]
    parties.append({"name": f"Shanghai {TOPICS_EN[topic].title()} Office", "role": "signatory"})
    for _ in range(rng.randrange(3)):
        parties.append({"name": f"{_name(rng)} {_name(rng)}, Director", "role": rng.choice(ROLES)})
    sources = [{"publisher": rng.choice(PUBLISHERS),
                "title": f"{where} and Shanghai sign {TOPICS_EN[topic]} {TYPE_EN[atype]}",
                "date": date.isoformat(), "url": f"https://news.example.org/{date.year}/{i}.html",
                "document": f"synthetic_{rng.randrange(SOURCE_DOCS):03d}.txt"}]
    lines = [
        f"- id: agreement-{i:06d}",
        f"  title_en: {_q(f'{where} {TOPICS_EN[topic]} {TYPE_EN[atype]} no. {i}')}",
        f"  title_zh: {_q(f'{TOPICS_ZH[topic]}{TYPE_ZH[atype]}第{i}号')}" if rng.random() < 0.9 else None,
        f"  date: {date.isoformat()}",
        f"  date_precision: {precision}",
        f"  date_note: {_q('Synthetic: the day is not known.')}" if precision != "day" else None,
        f"  type: {atype}",
        f"  partners: [{', '.join(partners)}]",
        f"  shanghai_site: {site}",
        "  parties:",
        *(f"    - {{name: {_q(p['name'])}, role: {_q(p['role'])}}}" for p in parties),
        f"  sectors: [{', '.join(sectors)}]",
        f"  value_cny: {'null' if value is None else value}",
        f"  summary_en: {_q(f'Synthetic agreement {i}: {where} and Shanghai cooperate on {TOPICS_EN[topic]}, signed as a {TYPE_EN[atype]}.')}",
        f"  summary_zh: {_q(f'合成数据{i}：与上海在{TOPICS_ZH[topic]}方面合作。')}" if rng.random() < 0.9 else None,
        "  sources:",
        *(f"    - {{publisher: {_q(s['publisher'])}, title: {_q(s['title'])}, date: {_q(s['date'])}, "
          f"url: {_q(s['url'])}, document: {_q(s['document'])}}}" for s in sources),
    ]
    return "\n".join(line for line in lines if line is not None)


def generate(out_dir: Path | str, agreements: int = 10_000, places: int | None = None,
             seed: int = 1) -> Path:
    """Write a data directory with `agreements` agreements over `places` partner places
    (default: as many places as agreements, so about 60% of them end up with agreements)."""
    out = Path(out_dir)
    m = places if places is not None else max(10, agreements)
    rng = random.Random(seed)
    rows, partner_ids = _places(rng, m)
    names = {r["id"]: r["name_en"] for r in rows}
    # A Zipf-like skew: place k is chosen with weight 1 / (k + 10).
    cum, total = [], 0.0
    for k in range(len(partner_ids)):
        total += 1.0 / (k + 10)
        cum.append(total)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sources").mkdir(exist_ok=True)
    for d in range(SOURCE_DOCS):
        (out / "sources" / f"synthetic_{d:03d}.txt").write_text(
            f"Synthetic source article {d}, written by bench/generate.py (seed {seed}).\n", encoding="utf-8")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(PLACE_COLUMNS), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    (out / "places.csv").write_text(buf.getvalue(), encoding="utf-8")
    head = (f"# Synthetic data: bench/generate.py --agreements {agreements} --places {m} --seed {seed}\n"
            "# Not real agreements.\n")
    body = "\n".join(_agreement(rng, i, partner_ids, cum, names) for i in range(agreements))
    (out / "agreements.yaml").write_text(head + body + "\n", encoding="utf-8")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("output", type=Path)
    ap.add_argument("--agreements", "-n", type=int, default=10_000)
    ap.add_argument("--places", "-m", type=int, default=None,
                    help="partner places to draw from (default: as many as agreements)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    out = generate(args.output, args.agreements, args.places, args.seed)
    print(f"wrote {out}: {args.agreements} agreements", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
