"""Safe XML parsing for uploaded BPMN/DMN files, and helpers to locate elements.

Uploaded diagrams come from browsers and scripts, so they are treated as hostile input:
no DTD (billion laughs), no entities (XXE), no XInclude, no network, bounded tree size.
"""

from __future__ import annotations

import re

from lxml import etree

from .errors import DeployError

# A DTD is the only way to declare entities, and entities are what both the billion-laughs
# (exponential expansion) and XXE (file/URL inclusion) attacks need. BPMN never needs one,
# so any DOCTYPE or ENTITY declaration is refused *before* lxml sees the bytes.
_FORBIDDEN_DECL = re.compile(rb'<!\s*(DOCTYPE|ENTITY)', re.IGNORECASE)
_XML_DECL_ENCODING = re.compile(rb'^\s*<\?xml[^>]*?encoding\s*=\s*["\']([^"\']+)["\']')
_XINCLUDE_NS = ('http://www.w3.org/2001/XInclude', 'http://www.w3.org/2003/XInclude')


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers keep state and are not meant to be shared across
    # threads. Comments and processing instructions are dropped because SpiffWorkflow's
    # parsers call ``child.tag.endswith(...)`` on every child, which fails on a comment.
    return etree.XMLParser(resolve_entities=False, no_network=True, dtd_validation=False,
                           load_dtd=False, huge_tree=False, remove_comments=True,
                           remove_pis=True)


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b'\n', 0, offset) + 1


def parse_xml(name: str, data: bytes) -> tuple[etree._Element | None, list[DeployError]]:
    """Parse one uploaded XML file without expanding anything.

    Returns ``(root, [])`` on success, else ``(None, errors)`` where each DeployError has
    ``file=name`` and the line where the problem was found. Never raises for bad input.
    Refused: empty files, bytes that are not UTF-8, an XML declaration naming another
    encoding, any DOCTYPE/ENTITY declaration, malformed XML, XInclude elements.
    """
    def error(message: str, line: int | None = None):
        return None, [DeployError(name, None, line, message)]

    if isinstance(data, str):
        data = data.encode('utf-8')
    if not isinstance(data, (bytes, bytearray)):
        return error('the file content must be bytes')
    data = bytes(data)
    if not data.strip():
        return error('the file is empty')
    if data.startswith((b'\xff\xfe', b'\xfe\xff')):
        return error('the file is UTF-16 encoded; save it as UTF-8')
    if b'\x00' in data:
        # NUL is valid UTF-8 but never in XML text; UTF-32 files look like this, and the
        # DOCTYPE scan below would not see through the interleaved zero bytes.
        return error('the file contains NUL bytes: it is not UTF-8 text',
                     _line_of_offset(data, data.index(b'\x00')))
    try:
        data.decode('utf-8')
    except UnicodeDecodeError as exc:
        return error(f'the file is not valid UTF-8 (byte 0x{data[exc.start]:02x} cannot be '
                     'decoded); save it as UTF-8', _line_of_offset(data, exc.start))
    declared = _XML_DECL_ENCODING.match(data.lstrip(b'\xef\xbb\xbf'))
    encoding = declared.group(1).decode('ascii', 'replace') if declared else 'utf-8'
    # ASCII is accepted too: ASCII bytes mean the same in UTF-8 (some modellers write it).
    if encoding.lower() not in ('utf-8', 'utf8', 'ascii', 'us-ascii'):
        return error(f'the XML declaration names encoding "{encoding}"; only UTF-8 is accepted', 1)
    forbidden = _FORBIDDEN_DECL.search(data)
    if forbidden:
        kind = forbidden.group(1).decode().upper()
        return error(f'the file contains a <!{kind}> declaration: DTDs and entity declarations '
                     'are refused (they allow entity-expansion and external-entity attacks, and '
                     'BPMN/DMN never needs them)', _line_of_offset(data, forbidden.start()))
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        if 'Excessive depth' in exc.msg:   # libxml2's limit without huge_tree: keep it
            return error('the XML nests elements more than 256 levels deep', exc.lineno or None)
        return error(f'malformed XML: {exc.msg}', exc.lineno or None)
    except (ValueError, etree.LxmlError) as exc:  # e.g. document too large for huge_tree=False
        return error(f'the XML could not be read: {exc}')
    if root.getroottree().docinfo.doctype:
        return error('the file has a DOCTYPE: DTDs are refused', 1)
    for el in root.iter():
        if isinstance(el.tag, str) and etree.QName(el).namespace in _XINCLUDE_NS:
            return error('XInclude elements are refused: a deploy must be self-contained',
                         el.sourceline)
    return root, []


def local_name(el: etree._Element) -> str:
    """The element's tag without namespace (``userTask``)."""
    return etree.QName(el).localname


_SPIFF_NS = 'http://spiffworkflow.org/bpmn/schema/1.0/core'


def _is_part(el: etree._Element) -> bool:
    # Event definitions, loop characteristics, expressions and extension elements (service
    # parameters) often carry ids of their own, but a modeller cannot select them in the
    # diagram: errors go to the owning shape.
    name = local_name(el)
    return (name.endswith(('EventDefinition', 'LoopCharacteristics', 'Expression'))
            or etree.QName(el).namespace == _SPIFF_NS)


def owner(el: etree._Element) -> etree._Element:
    """The nearest ancestor-or-self with an ``id`` that is a diagram element (task, event,
    flow, lane, process, message...): the element an error is about."""
    node = el
    while node is not None:
        if isinstance(node.tag, str) and node.get('id') and not _is_part(node):
            return node
        node = node.getparent()
    return el


def element_error(file: str, el: etree._Element, message: str) -> DeployError:
    """A DeployError about ``el``: its (or its nearest identified ancestor's) id and line."""
    target = owner(el)
    return DeployError(file, target.get('id'), target.sourceline, message)


def describe(el: etree._Element) -> str:
    """``userTask "Review" (Task_1)``: how messages name an element."""
    target = owner(el)
    label = local_name(target)
    name = target.get('name')
    if name:
        label += f' "{name}"'
    if target.get('id'):
        label += f' ({target.get("id")})'
    return label


def id_index(root: etree._Element) -> dict[str, etree._Element]:
    """Map element id -> first element carrying it, for turning ids into lines."""
    index: dict[str, etree._Element] = {}
    for el in root.iter():
        if isinstance(el.tag, str):
            ident = el.get('id')
            if ident and ident not in index:
                index[ident] = el
    return index
