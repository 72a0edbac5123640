"""OPML 2.0 subscription lists: read feed URLs from one, write one from the store's feeds."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from monitor.errors import MonitorError


@dataclass(frozen=True)
class Outline:
    url: str
    title: str | None = None
    site_url: str | None = None


class OpmlError(MonitorError, ValueError):
    """The document is not usable OPML; the message is one line. Exit code 1, as for any
    source that is not what it should be (a file that is not a feed fails `ingest` with 1)."""


def read_opml(content: bytes) -> list[Outline]:
    """Every outline with an xmlUrl, at any depth (folders are flattened), in document order."""
    if b"<!ENTITY" in content[:4096].upper():
        # Subscription lists never need entity declarations; refusing them keeps entity
        # expansion tricks out entirely.
        raise OpmlError("OPML with entity declarations is not accepted")
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise OpmlError(f"not valid XML: {exc}") from None
    if root.tag.lower() != "opml":
        raise OpmlError(f"not OPML: the root element is <{root.tag}>")
    outlines: list[Outline] = []
    seen: set[str] = set()
    for node in root.iter("outline"):
        url = (node.get("xmlUrl") or node.get("xmlurl") or "").strip()
        if not url or url in seen:
            continue
        seen.add(url)
        title = node.get("title") or node.get("text")
        outlines.append(Outline(url, title.strip() if title else None, node.get("htmlUrl")))
    return outlines


def write_opml(outlines: Iterable[Outline], *, title: str = "monitor feeds") -> bytes:
    """An OPML 2.0 document with one rss outline per feed."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC), usegmt=True)
    body = ET.SubElement(root, "body")
    for outline in outlines:
        attributes = {"type": "rss", "text": outline.title or outline.url, "xmlUrl": outline.url}
        if outline.title:
            attributes["title"] = outline.title
        if outline.site_url:
            attributes["htmlUrl"] = outline.site_url
        ET.SubElement(body, "outline", attributes)
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + text + b"\n"
