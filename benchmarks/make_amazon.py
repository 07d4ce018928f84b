"""An Amazon "Request Your Data" order history of N rows, for timing ``order import`` (issue 19).

``python benchmarks/make_amazon.py FILE --rows N`` writes the classic 28-column header, UTF-8
with a BOM and CRLF line ends as Amazon writes it: about 1.4 rows per order (one per item per
shipment), ISO times with ``Z`` (every third one with milliseconds), the ``Not Available`` /
``Not Applicable`` sentinels, a discount written ``'-1.00'`` now and then, five sites and their
currencies, card payments like ``Visa - 4242``. Every value is made up; a seed makes it the
same file every time.
"""

from __future__ import annotations

import argparse
import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

HEADER = (
    "Website,Order ID,Order Date,Purchase Order Number,Currency,Unit Price,Unit Price Tax,"
    "Shipping Charge,Total Discounts,Total Owed,Shipment Item Subtotal,"
    "Shipment Item Subtotal Tax,ASIN,Product Condition,Quantity,Payment Instrument Type,"
    "Order Status,Shipment Status,Ship Date,Shipping Option,Shipping Address,Billing Address,"
    "Carrier Name & Tracking Number,Product Name,Gift Message,Gift Sender Name,"
    "Gift Recipient Contact Details,Item Serial Number"
).split(",")
SITES = [("Amazon.com", "USD", "11"), ("Amazon.de", "EUR", "30"), ("Amazon.co.uk", "GBP", "20")]
CARDS = ["Visa - 4242", "MasterCard - 5555", "American Express - 1005", "Discover - 6011"]
WORDS = "Cable Case Lamp Charger Hose Nozzle Notebook Mug Kettle Stand Filter Brush".split()
ADDRESS = "A. Buyer 1 Sample Rd SPRINGFIELD IL 62700 United States"


def rows(count: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    found: list[list[str]] = []
    order = 0
    while len(found) < count:
        order += 1
        site, currency, prefix = rng.choice(SITES)
        number = f"{prefix}{rng.randint(1, 9)}-{order:07d}-{rng.randint(0, 9999999):07d}"
        placed = start + timedelta(seconds=rng.randint(0, 60 * 86400 * 10))
        card = rng.choice(CARDS)
        for _ in range(1 if rng.random() < 0.7 else rng.randint(2, 3)):
            if len(found) == count:
                break
            cents = rng.randint(199, 29999)
            tax = cents * 8 // 100
            discount = "'-1.00'" if rng.random() < 0.05 else "0"
            owed = cents + tax - (100 if discount != "0" else 0)
            shipped = placed + timedelta(hours=rng.randint(6, 96))
            stamp = shipped.strftime("%Y-%m-%dT%H:%M:%S") + (
                f".{rng.randint(0, 999):03d}Z" if rng.random() < 0.33 else "Z"
            )
            found.append(
                [
                    site,
                    number,
                    placed.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "Not Applicable",
                    currency,
                    f"{cents / 100:.2f}",
                    f"{tax / 100:.2f}",
                    "0",
                    discount,
                    f"{owed / 100:.2f}",
                    f"{cents / 100:.2f}",
                    f"{tax / 100:.2f}",
                    f"B0{rng.randint(0, 99999999):08d}",
                    "New",
                    str(rng.randint(1, 3)),
                    card,
                    "Closed",
                    "Shipped",
                    stamp,
                    "std-us",
                    ADDRESS,
                    ADDRESS,
                    f"UPS(1Z{rng.randint(0, 10**12):012d})",
                    f"{rng.choice(WORDS)} {rng.choice(WORDS)}, {rng.randint(1, 99)}-Pack",
                    "Not Available",
                    "Not Available",
                    "Not Available",
                    "Not Available",
                ]
            )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    with args.file.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows(args.rows, args.seed))


if __name__ == "__main__":
    main()
