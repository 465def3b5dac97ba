"""The demo's data files, generated deterministically: raw support tickets (with personal data) and
the anonymised knowledge base built from them (without).

The people are invented: names from short lists, identity numbers with valid NIF check letters,
Spanish mobile numbers and e-mail addresses at reserved example domains. They exist so that the PII
check has something real to find in the raw tickets and nothing in the knowledge base.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, timedelta

NIF_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
FIRST_NAMES = (
    "Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Leo", "María", "Daniel", "Julia", "Pablo", "Paula", "Álvaro",
    "Valeria", "Adrián", "Carmen", "Javier", "Elena", "Marc", "Nerea", "Iker", "Laia", "Xabier", "Uxía", "Antonio",
)  # fmt: skip
SURNAMES = (
    "García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Martín",
    "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Etxeberria", "Castro",
)  # fmt: skip
CATEGORIES = ("facturación", "tarifas", "averías", "portabilidad", "bajas", "seguro")
CHANNELS = ("teléfono", "chat", "email", "tienda")
DOMAINS = ("example.com", "example.org", "example.net")
TEXTS = {
    "facturación": "No entiendo el cargo de {importe} € en mi última factura.",
    "tarifas": "Quiero cambiar a una tarifa con más datos, ¿qué opciones tengo?",
    "averías": "No tengo conexión a internet desde ayer. Podéis llamarme al {telefono}.",
    "portabilidad": "Quiero traer mi número desde otra compañía; mi DNI es {dni}.",
    "bajas": "Solicito la baja de la línea. Escribidme a {email} con la confirmación.",
    "seguro": "Se me ha roto la pantalla del móvil, ¿lo cubre el seguro?",
}
RESOLUTIONS = {
    "facturación": "Se explica el prorrateo del cambio de tarifa.",
    "tarifas": "Se ofrece la tarifa Ilimitada 50 GB.",
    "averías": "Se reinicia el router en remoto; queda resuelto.",
    "portabilidad": "Portabilidad solicitada; se completa en un día hábil.",
    "bajas": "Baja tramitada con fecha de fin de mes.",
    "seguro": "Rotura cubierta; se envía mensajero.",
}
ARTICLES = (
    ("facturación", "Cómo leer tu factura", "La factura se emite el día 1 de cada mes. Los cargos prorrateados "
     "aparecen cuando cambias de tarifa a mitad de periodo."),
    ("tarifas", "Cambiar de tarifa", "Puedes cambiar de tarifa desde Mi Área, sin permanencia. El cambio se aplica al "
     "día siguiente."),
    ("averías", "Sin conexión a internet", "Reinicia el router durante 30 segundos. Si la luz de fibra sigue en rojo, "
     "abre una incidencia desde Mi Área."),
    ("portabilidad", "Traer tu número", "La portabilidad es gratuita y se completa en un día hábil. Necesitas el "
     "documento de identidad del titular."),
    ("bajas", "Dar de baja una línea", "La baja se solicita por teléfono o en tienda. El último recibo se prorratea "
     "hasta la fecha de baja."),
    ("seguro", "Qué cubre el seguro del móvil", "Cubre rotura accidental y robo con denuncia. No cubre pérdida ni "
     "daños estéticos."),
)  # fmt: skip


def nif(number: int) -> str:
    return f"{number:08d}{NIF_LETTERS[number % 23]}"


def mobile(rng: random.Random) -> str:
    digits = f"6{rng.randrange(10**8):08d}"
    style = rng.randrange(3)
    if style == 0:
        return f"+34 {digits[:3]} {digits[3:6]} {digits[6:]}"
    if style == 1:
        return f"{digits[:3]} {digits[3:5]} {digits[5:7]} {digits[7:]}"
    return digits


def ascii_slug(text: str) -> str:
    table = str.maketrans("áéíóúüñçÁÉÍÓÚÑ", "aeiouuncAEIOUN")
    return text.translate(table).lower()


def tickets_csv(rows: int = 2000, seed: int = 2609) -> bytes:
    """A sample of the raw support tickets of September 2026: every row names a (fictitious) person."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["id_ticket", "fecha_apertura", "canal", "nombre_cliente", "telefono", "email", "dni", "categoria", "texto",
         "resolucion", "satisfaccion"]
    )  # fmt: skip
    start = date(2026, 9, 1)
    for number in range(1, rows + 1):
        first, surname = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        email = f"{ascii_slug(first)}.{ascii_slug(surname)}{rng.randrange(100)}@{rng.choice(DOMAINS)}"
        phone, dni = mobile(rng), nif(rng.randrange(10_000_000, 99_999_999))
        category = rng.choice(CATEGORIES)
        text = TEXTS[category].format(importe=rng.randrange(5, 90), telefono=phone, dni=dni, email=email)
        writer.writerow(
            [
                number,
                (start + timedelta(days=rng.randrange(30))).isoformat(),
                rng.choice(CHANNELS),
                f"{first} {surname}",
                phone,
                email,
                dni,
                category,
                text,
                RESOLUTIONS[category],
                rng.randint(1, 5),
            ]
        )
    return out.getvalue().encode()


def knowledge_base_jsonl() -> bytes:
    """The anonymised help articles: procedures only, no one's data."""
    lines = []
    for number, (category, title, content) in enumerate(ARTICLES, start=1):
        lines.append(
            json.dumps(
                {
                    "id_articulo": f"KB-{number:04d}",
                    "titulo": title,
                    "categoria": category,
                    "contenido": content,
                    "actualizado": "2026-10-01",
                },
                ensure_ascii=False,
            )
        )
    return ("\n".join(lines) + "\n").encode()
