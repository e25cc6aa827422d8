"""Customer XML from the commerce platform: streaming, defused parsing and validation.

The schema is documented in docs/commerce-xml.md. The parser is defusedxml's `DefusedXMLParser`
with DTDs, entities and external references forbidden (no billion laughs, no XXE). It is fed in
64 KiB chunks, the way `iterparse` works, but with a target that keeps only the <cliente> being
read instead of building a tree: each customer is handed over and dropped as soon as its end tag
is seen, so memory stays flat whatever the file size (and no Element objects are built at all,
which roughly halves the parsing cost on large loads). A single customer may not span more than
MAX_CUSTOMER_BYTES; the whole document may be capped with `max_bytes` (the HTTP endpoint does;
the CLI streams files of any size).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from app.services.core.documents import InvalidDocument, normalize_document
from app.services.core.errors import DomainError, ValidationError

# Brazilian states (the same list as app.services.settings.branches.UFS; kept here so that the XML reader
# process of customer_import_file imports no database models).
UFS = frozenset([
    "AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
    "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO",
])
CHUNK = 64 * 1024
MAX_CUSTOMER_BYTES = 1024 * 1024

TAGS = {
    "id": "external_id", "nome": "name", "email": "email", "cnpj": "document", "cpf": "document",
    "inscricao_estadual": "state_registration", "telefone": "phone", "celular": "mobile",
}
ADDRESS_TAGS = {
    "logradouro": "street", "numero": "number", "complemento": "complement", "bairro": "district",
    "cidade": "city", "uf": "state", "estado": "state", "cep": "zip",
}
MAX_LENGTHS = {
    "name": 200, "email": 254, "state_registration": 20, "street": 200, "number": 20,
    "complement": 100, "district": 100, "city": 100,
}
FIELD_LABELS = {
    "external_id": "id", "name": "nome", "email": "email", "document": "cnpj", "state_registration":
    "inscricao_estadual", "phone": "telefone", "mobile": "celular", "street": "logradouro", "number": "numero",
    "complement": "complemento", "district": "bairro", "city": "cidade", "state": "uf", "zip": "cep",
}
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class XmlRejected(ValidationError):
    """The document as a whole is refused (malformed, forbidden constructs, wrong root)."""

    code = "xml_rejected"

    def __init__(self, message: str, *, code: str = "xml_rejected"):
        super().__init__(message, code=code)


class XmlUnreadable(XmlRejected):
    """The bytes cannot be read as XML at all (an encoding the parser does not know): a 400."""

    http_status = 400

    def __init__(self, message: str):
        super().__init__(message, code="unsupported_encoding")


class BodyTooLarge(DomainError):
    code = "body_too_large"
    http_status = 413


@dataclass(slots=True)
class CustomerRecord:
    """One valid <cliente>; `values` holds only the party fields present in the XML."""

    index: int
    external_id: str
    document: str
    values: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Refusal:
    index: int
    external_id: str | None
    code: str
    message: str


class _Reader:
    """A file-like wrapper: small reads, byte counting for a progress bar, size limits."""

    def __init__(self, raw, *, max_bytes: int | None, on_progress: Callable[[int], None] | None):
        self._raw, self._max, self._on_progress = raw, max_bytes, on_progress
        self.total = 0
        self.boundary = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(CHUNK if size is None or size < 0 or size > CHUNK else size)
        if isinstance(data, str):
            data = data.encode()
        self.total += len(data)
        if self._max is not None and self.total > self._max:
            raise BodyTooLarge(f"O XML excede o tamanho máximo de {self._max // (1024 * 1024)} MB por requisição; "
                               "divida o lote.")
        if self.total - self.boundary > MAX_CUSTOMER_BYTES + CHUNK:
            raise XmlRejected("Um <cliente> do XML excede 1 MB; o documento foi recusado.", code="customer_too_large")
        if self._on_progress and data:
            self._on_progress(len(data))
        return data


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if "}" in tag else tag


def _attribute(attrib, name: str) -> str | None:
    """expat hands attributes over as a flat [name, value, …] list (ordered_attributes)."""
    if isinstance(attrib, dict):
        return attrib.get(name)
    for i in range(0, len(attrib) - 1, 2):
        if _local(attrib[i]) == name:
            return attrib[i + 1]
    return None


class _CustomerTarget:
    """Parser target (start/end/data): collects the fields of the current <cliente> only.

    Depths: <clientes> 1, <cliente> 2, its fields 3, address fields 4 (one level less when the
    root is a single <cliente>). Text of unknown elements is never kept.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.customer_depth = 0
        self.raw: dict[str, str] | None = None
        self.in_address = False
        self.field: str | None = None
        self.field_depth = 0
        self.text: list[str] = []
        self.index = 0
        self.ready: list[CustomerRecord | Refusal] = []
        self.seen_root = False

    def start(self, tag: str, attrib) -> None:
        self.depth += 1
        depth = self.depth
        if depth == 1:
            self.seen_root = True
            root = _local(tag)
            if root not in ("clientes", "cliente"):
                raise XmlRejected("O elemento raiz deve ser <clientes> (lote) ou <cliente>.", code="unexpected_root")
            self.customer_depth = 1 if root == "cliente" else 2
        if depth == self.customer_depth:
            if _local(tag) == "cliente":
                ext = _attribute(attrib, "id")
                self.raw = {"external_id": ext.strip()} if ext else {}
            return
        if self.raw is None:
            return
        local = _local(tag)
        if depth == self.customer_depth + 1:
            self.in_address = local == "endereco"
            self.field = TAGS.get(local)
        elif depth == self.customer_depth + 2 and self.in_address:
            self.field = ADDRESS_TAGS.get(local)
        else:
            return
        if self.field is not None:
            self.field_depth, self.text = depth, []

    def data(self, text: str) -> None:
        if self.field is not None and self.depth == self.field_depth:
            self.text.append(text)

    def end(self, tag: str) -> None:
        depth = self.depth
        self.depth -= 1
        if self.raw is None:
            return
        if self.field is not None and depth == self.field_depth:
            text = self.text
            self.raw[self.field] = (text[0] if len(text) == 1 else "".join(text)).strip()
            self.field, self.text = None, []
        elif depth == self.customer_depth + 1:
            self.in_address = False
        elif depth == self.customer_depth:
            self.index += 1
            self.ready.append(validate_customer(self.raw, self.index))
            self.raw = None

    def close(self) -> None:
        return None


def iter_customers(source, *, max_bytes: int | None = None, on_progress: Callable[[int], None] | None = None
                   ) -> Iterator[CustomerRecord | Refusal]:
    """Yield a CustomerRecord or a Refusal per <cliente>, in document order (1-based index).

    The root is <clientes> (a batch, possibly empty) or a single <cliente>. Unknown elements are
    ignored. Raises XmlRejected for a malformed document or one with a DTD, entities or external
    references; BodyTooLarge past `max_bytes`.
    """
    reader = _Reader(source, max_bytes=max_bytes, on_progress=on_progress)
    target = _CustomerTarget()
    parser = DefusedXMLParser(target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    # The element handlers go straight to the target (skipping XMLParser's per-element Python
    # wrappers); the DTD/entity/external-reference guards defusedxml installed stay in place.
    expat = parser.parser
    expat.StartElementHandler, expat.EndElementHandler = target.start, target.end
    try:
        while True:
            chunk = reader.read(CHUNK)
            if chunk:
                parser.feed(chunk)
            else:
                parser.close()
            if target.ready:
                ready, target.ready = target.ready, []
                reader.boundary = reader.total
                yield from ready
            if not chunk:
                break
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise XmlRejected(f"XML malformado (linha {line}, coluna {column}).", code="malformed_xml") from exc
    except DefusedXmlException as exc:
        raise XmlRejected("XML recusado: DTD, entidades e referências externas não são permitidas.",
                          code="forbidden_xml") from exc
    except (LookupError, ValueError) as exc:  # expat: an unknown or multi-byte `encoding` declaration
        raise XmlUnreadable("Codificação do XML não suportada; envie em UTF-8 ou ISO-8859-1.") from exc
    if not target.seen_root:
        raise XmlRejected("XML vazio.", code="malformed_xml")


def validate_customer(raw: dict[str, str], index: int) -> CustomerRecord | Refusal:
    """Check and clean one customer's fields (one call per customer of a large load: kept lean)."""
    errors: list[tuple[str, str]] = []
    ext = raw.get("external_id") or ""
    if not ext:
        errors.append(("missing_id", "id da plataforma ausente"))
    if not raw.get("name"):
        errors.append(("missing_name", "nome ausente"))
    document = ""
    try:
        document = normalize_document(raw.get("document") or "").number
    except InvalidDocument as exc:
        errors.append(("invalid_document", exc.message))
    values: dict[str, str | None] = {}
    for key, value in raw.items():
        if key == "external_id" or key == "document":
            continue
        if not value:
            values[key] = None  # present and empty: clears the stored value
            continue
        limit = MAX_LENGTHS.get(key)
        if limit is not None and len(value) > limit:
            errors.append(("invalid_field", f"{FIELD_LABELS[key]}: no máximo {limit} caracteres"))
        cleaner = _CLEANERS.get(key)
        if cleaner is None:
            values[key] = value
            continue
        cleaned, problem = cleaner(value)
        if problem:
            errors.append(("invalid_field", f"{FIELD_LABELS[key]}: {problem}"))
        values[key] = cleaned
    if len(ext) > 64:
        errors.append(("invalid_field", "id: no máximo 64 caracteres"))
    if errors:
        return Refusal(index, ext[:64] or None, errors[0][0], "; ".join(msg for _, msg in errors))
    return CustomerRecord(index, ext, document, values)


_NON_DIGITS = re.compile(r"\D")


def _email(value: str) -> tuple[str, str | None]:
    value = value.lower()
    return value, None if _EMAIL_RE.fullmatch(value) else "e-mail inválido"


def _phone(value: str) -> tuple[str | None, str | None]:
    digits = value if value.isdigit() else _NON_DIGITS.sub("", value)
    return (digits, None) if 8 <= len(digits) <= 20 else (None, "telefone inválido")


def _state(value: str) -> tuple[str, str | None]:
    value = value.upper()
    return value, None if value in UFS else "UF inválida"


def _zip(value: str) -> tuple[str, str | None]:
    digits = value if value.isdigit() else _NON_DIGITS.sub("", value)
    return digits, None if len(digits) == 8 else "o CEP deve ter 8 dígitos"


def _upper(value: str) -> tuple[str, None]:
    return value.upper(), None


_CLEANERS = {"email": _email, "phone": _phone, "mobile": _phone, "state": _state, "zip": _zip,
             "state_registration": _upper}


def write_chunks(path: str, out, chunk_size: int = 1000) -> None:
    """The XML reader process of `customer_import_file`: parse `path` and write pickled chunks of plain
    tuples to `out`: ("items", [...], bytes read), then ("done", None, n) or ("error", (type, message,
    code), n)."""
    import pickle

    read = [0]

    def progress(n: int) -> None:
        read[0] += n

    def send(kind: str, payload) -> None:
        pickle.dump((kind, payload, read[0]), out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()
        read[0] = 0

    chunk: list[tuple] = []
    try:
        with open(path, "rb") as fh:
            for item in iter_customers(fh, on_progress=progress):
                if isinstance(item, Refusal):
                    chunk.append(("refused", item.index, item.external_id, item.code, item.message))
                else:
                    chunk.append(("record", item.index, item.external_id, item.document, item.values))
                if len(chunk) >= chunk_size:
                    send("items", chunk)
                    chunk = []
        send("items", chunk)
        send("done", None)
    except (XmlRejected, BodyTooLarge) as exc:
        send("items", chunk)
        send("error", (type(exc).__name__, exc.message, exc.code))


if __name__ == "__main__":
    import sys

    write_chunks(sys.argv[1], sys.stdout.buffer)
