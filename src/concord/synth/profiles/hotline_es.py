"""Hotline Ejemplo ES: a Spanish reporting hotline's export of assessed reports.

Quirks: comma-separated UTF-8 CSV *with* a byte-order mark (Excel's "CSV UTF-8"), d-m-Y dates,
Spanish labels, ISO country codes of the hosting country (with the region code "EU", which no
country concept can take and is left unmapped), the coarse ICCAM-style age bands "prepúber" and
"púber" (which only roll up to "under 18"), and "Ambos" for material showing girls and boys
(no sex concept fits; left unmapped).
"""

from __future__ import annotations

from concord.synth.model import (
    GENERATED,
    SELF_GENERATED,
    AgeBandField,
    Band,
    Choice,
    CountField,
    DateField,
    FlagField,
    Format,
    IdentifyingField,
    KeyField,
    LabelField,
    Profile,
    Reader,
    StatusField,
    StatusValue,
)

C = Choice

PROFILE = Profile(
    slug="hotline-es",
    name="Hotline Ejemplo ES",
    kind="hotline",
    country="ES",
    language="es",
    description="Hotline Ejemplo ES: export of assessed public reports",
    reader=Reader(Format.CSV, ".csv", encoding="utf-8-sig", delimiter=","),
    growth=1.12,
    fields=(
        KeyField("Nº denuncia", "seq", prefix="DEN", width=7),
        DateField("received_date", "Fecha de recepción", "%d-%m-%Y"),
        DateField("occurred_date", "Fecha del hecho", "%d-%m-%Y", missing_rate=0.8),
        LabelField(
            "country",
            "País",
            "country",
            (
                C("ES", "country.es", 55, label="España"),
                C("NL", "country.nl", 10, label="Países Bajos"),
                C("US", "country.us", 12, label="Estados Unidos"),
                C("DE", "country.de", 4, label="Alemania"),
                C("FR", "country.fr", 3, label="Francia"),
                C("RU", "country.ru", 2, label="Rusia"),
                C("ZZ", "country.zz", 4, label="Desconocido"),
                C("EU", None, 1, label="Unión Europea"),
            ),
            codes=True,
            unknown=("XX", "--"),
        ),
        LabelField(
            "channel",
            "Canal",
            "channel",
            (
                C("Formulario web", "channel.web_form", 70),
                C("Correo electrónico", "channel.email", 15),
                C("Aplicación", "channel.mobile_app", 5, 1.2),
                C("Derivación policial", "channel.law_enforcement_referral", 5),
                C("Búsqueda proactiva", "channel.proactive_search", 5, 1.3),
            ),
        ),
        LabelField(
            "reporter_type",
            "Denunciante",
            "reporter_type",
            (
                C("Particular", "reporter.public", 50),
                C("Anónimo", "reporter.anonymous", 30),
                C("Menor afectado", "reporter.child_self", 5),
                C("Madre/padre", "reporter.parent", 5),
                C("Empresa", "reporter.industry", 5),
                C("ONG", "reporter.ngo", 5),
            ),
        ),
        LabelField(
            "abuse_types",
            "Tipo de contenido",
            "abuse_type",
            (
                C("Pornografía infantil", "abuse.csam", 55, code="CA-01"),
                C("Material generado por IA", "abuse.ai_generated_csam", 2, 2.2, code="CA-02"),
                C("Sextorsión", "abuse.sexual_extortion", 10, 1.6, code="CA-03"),
                C("Grooming", "abuse.online_grooming", 10, code="CA-04"),
                C("Explotación sexual en viajes y turismo", "abuse.sectt", 1, code="CA-05"),
                C("Trata con fines sexuales", "abuse.trafficking", 1, code="CA-06"),
                C(
                    "Difusión de imágenes íntimas",
                    "abuse.non_consensual_image_sharing",
                    6,
                    code="CA-07",
                ),
                C("Otros", "abuse.other_sexual_exploitation", 4, code="CA-99"),
            ),
            split=";",
            second_rate=0.15,
            unknown=("Pornografía virtual", "CA-08"),
        ),
        LabelField(
            "platform_types",
            "Tipo de servicio",
            "platform_type",
            (
                C("Red social", "platform.social_media", 15),
                C("Mensajería", "platform.messaging", 8),
                C("Alojamiento de imágenes", "platform.image_hosting", 25),
                C("Almacenamiento en la nube", "platform.cloud_storage", 8),
                C("Foro", "platform.forum", 8),
                C("P2P", "platform.p2p", 3),
                C("Web oscura", "platform.dark_web", 3),
                C("Sitio web", "platform.website", 15),
            ),
        ),
        CountField("Nº víctimas", extra_rate=0.25),
        AgeBandField(
            "Edad aparente",
            (
                Band("Bebé (0-2 años)", "age.0_2", 0, 2, code="E1"),
                Band("Prepúber (3-12 años)", "age.under_18", 3, 12, code="E2"),
                Band("Púber (13-17 años)", "age.under_18", 13, 17, code="E3"),
                Band("Adulto", "age.adult", 18, 200, code="E4"),
            ),
            C("Desconocida", "age.unknown", code="E9"),
            unknown_codes=("Adolescente",),
        ),
        LabelField(
            "victim_sex",
            "Sexo aparente",
            "sex",
            (
                C("Niña", "sex.female", 65),
                C("Niño", "sex.male", 20),
                C("Ambos", None, 5),
                C("No determinado", "sex.unknown", 10),
            ),
            sextortion_boost=(("sex.male", 3.0),),
        ),
        LabelField(
            "content_category",
            "Categoría ICCAM",
            "content_category",
            (
                C("Baseline INTERPOL", "content.baseline", 45, code="ICCAM-B"),
                C("Ilegal según ley nacional", "content.nationally_illegal", 30, code="ICCAM-N"),
                C("No ilegal", "content.not_illegal", 25, code="ICCAM-X"),
            ),
        ),
        FlagField(
            "self_generated",
            "Autogenerado",
            "Sí",
            "No",
            0.1,
            1.15,
            forced_by=SELF_GENERATED,
            also_true=("Si", "sí"),
            also_false=("no",),
        ),
        FlagField(
            "ai_generated",
            "Generado por IA",
            "Sí",
            "No",
            0.01,
            2.0,
            forced_by=GENERATED,
            also_true=("Si", "sí"),
            also_false=("no",),
        ),
        LabelField(
            "actions_taken",
            "Acciones",
            "action_taken",
            (
                C("Notificación y retirada", "action.takedown_requested", 50, code="NTD"),
                C("Remitido a la policía", "action.forwarded_law_enforcement", 30, code="LEA"),
                C("Remitido vía ICCAM", "action.forwarded_hotline", 25, code="ICCAM"),
                C("Contenido no ilegal", "action.no_action_not_illegal", 20, code="NI"),
            ),
            split=";",
            second_rate=0.35,
        ),
        StatusField(
            "Estado",
            (
                StatusValue("Abierta", "open", 5, 50),
                StatusValue("Cerrada", "closed", 90, 30),
                StatusValue("En trámite", "pending", 5, 20),
            ),
        ),
        IdentifyingField("Nombre del menor", "first_name", missing_rate=0.95),
        IdentifyingField("Teléfono de contacto", "phone", missing_rate=0.8),
        IdentifyingField("Descripción", "narrative", missing_rate=0.1),
    ),
)
