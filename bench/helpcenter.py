"""Benchmark the public help center as a customer's browser gets it, over real HTTP.

Fills a fresh PostgreSQL database with a knowledge base (articles in Chinese and English, in
categories and sections, with tags) through the plugin's own write path (so the search terms are
real), starts `relaydesk serve` in its own process, and from this process times full pages:

  baseline      GET /health: the same HTTP round trip with no work behind it
  home          the brand's home page in Chinese
  category      a category page
  article       article pages (many different ones, en and zh)
  search_zh     a Chinese query (bigrams), repeated: served from the page cache
  search_en     an English word, repeated
  search_cold   a different query every time (two random words): the cache never helps
  sitemap       sitemap.xml
  vote          a helpful vote (POST, one address: counted once, then only redirected)

Each figure is p50/p95 in ms; the target is a p95 of 20 ms or less for the public pages. The
machine is shared, so figures are noisy. The last line is one JSON object.

  python bench/helpcenter.py --quick    # 200 articles (en + zh), 60 rounds per kind
  python bench/helpcenter.py            # 2,000 articles, 200 rounds per kind

RELAYDESK_BENCH_PG names the server's admin database (default postgresql://postgres@127.0.0.1:5432/test);
the bench creates its own database there and drops it afterwards (--keep keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from core import db  # noqa: E402
from core.migrate import migrate  # noqa: E402

ADMIN_URL = os.environ.get("RELAYDESK_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
SIZES = {"quick": 200, "default": 2000}
KINDS = ("baseline", "home", "category", "article", "search_zh", "search_en", "search_cold", "sitemap", "vote")
TOPICS_ZH = ["配送", "退货", "退款", "尺码", "海关", "关税", "发票", "优惠券", "包裹", "物流", "换货", "保修", "付款", "地址"]
TOPICS_EN = ["shipping", "returns", "refund", "sizes", "customs", "duties", "invoice", "coupon", "parcel",
             "tracking", "exchange", "warranty", "payment", "address"]
FILLER_ZH = "我们会在收到您的订单后尽快处理，通常需要一到三个工作日。如有问题请随时联系客服。"
FILLER_EN = "We process every order as soon as it arrives, usually within one to three working days. Contact us any time."


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def fill(url: str, articles: int, seed: int = 11) -> dict:
    from plugins.kb import store, theme

    rng = random.Random(seed)
    started = time.perf_counter()
    await db.connect(url)
    try:
        await migrate([("kb", str(REPO / "plugins" / "kb" / "migrations"))])
        await theme.save_brand("shop", name="Bench Shop", languages=["zh", "en"])
        categories = []
        for i, (zh, en) in enumerate(zip(TOPICS_ZH[:7], TOPICS_EN[:7])):
            cat = await store.save_category(category_id=None, slug=en, names={"zh": zh, "en": en.title()}, parent=None,
                                            position=i)
            categories.append(cat["id"])
            for j in range(2):
                section = await store.save_category(category_id=None, slug=f"{en}-{j}", names={
                    "zh": f"{zh}{j}", "en": f"{en.title()} {j}"}, parent=cat["id"], position=j)
                categories.append(section["id"])
        ids = []
        for n in range(articles):
            k = rng.randrange(len(TOPICS_EN))
            article = await store.save_article(article_id=None, slug=f"article-{n}", category=rng.choice(categories),
                                               visibility="public", brands=[], tags=[TOPICS_EN[k]])
            words_zh = "".join(rng.sample(TOPICS_ZH, 3))
            words_en = " ".join(rng.sample(TOPICS_EN, 3))
            await store.save_translation(article, "zh", title=f"{TOPICS_ZH[k]}问题 {n}：{words_zh}",
                                         body_html=f"<p>{FILLER_ZH}{words_zh}</p>" * 6, status="published",
                                         author="bench")
            await store.save_translation(article, "en", title=f"{TOPICS_EN[k].title()} question {n}: {words_en}",
                                         body_html=f"<p>{FILLER_EN} {words_en}</p>" * 6, status="published",
                                         author="bench")
            ids.append(article)
    finally:
        await db.disconnect()
    return {"articles": ids, "categories": categories, "seconds": time.perf_counter() - started}


def write_config(folder: Path, url: str) -> Path:
    config = folder / "plugins.toml"
    config.write_text(f"""[relaydesk]
database = "{url}"
secret = {{ env = "RELAYDESK_BENCH_SECRET" }}
data_dir = "{folder / 'data'}"
queue_name = "bench-{uuid.uuid4().hex[:6]}"

[plugins]
enabled = ["kb"]

[plugins.kb]
cache_seconds = 60
""")
    return config


async def wait_ready(base: str, server: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"relaydesk serve exited with {server.returncode}")
            try:
                if (await client.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.3)
    raise RuntimeError("relaydesk serve did not answer /health in time")


async def measure(base: str, filled: dict, rounds: int) -> dict[str, list[float]]:
    rng = random.Random(5)
    results: dict[str, list[float]] = {k: [] for k in KINDS}
    articles, categories = filled["articles"], filled["categories"]
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        async def timed(kind: str, method: str, url: str, expect: tuple[int, ...] = (200,), **kw) -> None:
            started = time.perf_counter()
            response = await client.request(method, url, **kw)
            body = response.content  # the whole page
            results[kind].append(1000 * (time.perf_counter() - started))
            if response.status_code not in expect or not body and response.status_code == 200:
                raise RuntimeError(f"{kind}: {url} answered {response.status_code}")

        for _ in range(3):  # warm up: connections, templates, first cache fill
            await client.get("/help/shop/zh/")
        for i in range(rounds):
            await timed("baseline", "GET", "/health")
            await timed("home", "GET", "/help/shop/zh/")
            await timed("category", "GET", f"/help/shop/en/categories/{categories[i % len(categories)]}")
            lang = "zh" if i % 2 else "en"
            await timed("article", "GET", f"/help/shop/{lang}/articles/{articles[rng.randrange(len(articles))]}")
            await timed("search_zh", "GET", "/help/shop/zh/search", params={"q": "退货 物流"})
            await timed("search_en", "GET", "/help/shop/en/search", params={"q": "refund"})
            query = " ".join(rng.sample(TOPICS_EN, 2)) + f" {rng.choice(TOPICS_EN)}"
            await timed("search_cold", "GET", "/help/shop/en/search", params={"q": query + " " * (i % 7)})
            await timed("sitemap", "GET", "/help/shop/sitemap.xml")
            await timed("vote", "POST", f"/help/shop/en/articles/{articles[0]}/vote", expect=(303,),
                        data={"helpful": "yes"})
    return results


async def run(args: argparse.Namespace) -> dict:
    size = "quick" if args.quick else "default"
    articles = SIZES[size]
    rounds = args.rounds or (60 if args.quick else 200)
    name = f"relaydesk_bench_kb_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    folder = Path(tempfile.mkdtemp(prefix="relaydesk-bench-kb-"))
    server = None
    try:
        await db.connect(url)
        await migrate()
        await db.disconnect()
        print(f"writing {articles:,} articles in zh and en into {name} ...", flush=True)
        filled = await fill(url, articles)
        print(f"written in {filled['seconds']:.1f}s", flush=True)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "RELAYDESK_BENCH_SECRET": "bench-session-secret-" + "x" * 32, "PYTHONPATH": str(REPO)}
        server = subprocess.Popen([sys.executable, "-m", "core.cli", "serve", "--config", str(write_config(folder, url)),
                                   "--port", str(port), "--no-access-log"], env=env, cwd=folder,
                                  stdout=open(folder / "serve.log", "w"), stderr=subprocess.STDOUT)
        await wait_ready(base, server)
        results = await measure(base, filled, rounds)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            admin = await asyncpg.connect(ADMIN_URL)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
            shutil.rmtree(folder, ignore_errors=True)
    return {"size": size, "articles": articles, "rounds": rounds, "results": results}


def report(run_: dict) -> dict:
    results = run_["results"]
    print(f"\n{'request':<12} {'p50 ms':>8} {'p95 ms':>8}")
    for kind in KINDS:
        print(f"{kind:<12} {percentile(results[kind], 0.5):8.2f} {percentile(results[kind], 0.95):8.2f}")
    pages = [k for k in KINDS if k not in ("baseline", "vote")]
    worst = max(pages, key=lambda k: percentile(results[k], 0.95))
    return {"scale": run_["size"], "articles": run_["articles"], "languages": 2, "rounds": run_["rounds"],
            **{f"{k}_p95_ms": round(percentile(results[k], 0.95), 2) for k in KINDS},
            "page_p95_ms": round(percentile(results[worst], 0.95), 2), "page_worst_kind": worst,
            "target_p95_ms": 20, "meets_target": percentile(results[worst], 0.95) <= 20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 articles, 60 rounds")
    parser.add_argument("--rounds", type=int, default=None, help="requests per kind (default 200, quick 60)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    print(json.dumps(report(asyncio.run(run(args)))))


if __name__ == "__main__":
    main()
