"""Hotline Example UK: an English-language hotline's spreadsheet of assessed reports.

Quirks: an .xlsx workbook (sheet "Reports") with ISO dates written as text, short English codes
("CSAM", "FIN-SEXTORTION") rather than labels, the non-ISO country code "UK" for the United
Kingdom, the UK sentencing categories A/B/C, and "Both" for material showing girls and boys,
which no sex concept can take (left unmapped). Excel caps a sheet at 1,048,576 rows.
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

#: Excel's sheet limit, less the header row.
EXCEL_MAX_ROWS = 1_048_575

PROFILE = Profile(
    slug="hotline-uk",
    name="Hotline Example UK",
    kind="hotline",
    country="GB",
    language="en",
    description="Hotline Example UK: quarterly spreadsheet of assessed reports",
    reader=Reader(Format.XLSX, ".xlsx", sheet="Reports"),
    growth=1.05,
    max_rows=EXCEL_MAX_ROWS,
    fields=(
        KeyField("Report ID", "seq", prefix="UKR-", width=8),
        DateField("received_date", "Date Received", "%Y-%m-%d"),
        DateField("occurred_date", "Date of Incident", "%Y-%m-%d", missing_rate=0.85),
        LabelField(
            "country",
            "Country",
            "country",
            (
                C("UK", "country.gb", 40, label="United Kingdom"),
                C("US", "country.us", 20, label="United States"),
                C("NL", "country.nl", 15, label="Netherlands"),
                C("DE", "country.de", 5, label="Germany"),
                C("RU", "country.ru", 4, label="Russia"),
                C("Unknown", "country.zz", 10, label="Unknown"),
            ),
            codes=True,
            unknown=("GBR", "EN"),
        ),
        LabelField(
            "channel",
            "Source",
            "channel",
            (
                C("Web form", "channel.web_form", 55),
                C("Phone", "channel.phone", 5),
                C("Email", "channel.email", 5),
                C("Industry referral", "channel.industry_report", 20, 1.1),
                C("Proactive", "channel.proactive_search", 15, 1.25),
            ),
        ),
        LabelField(
            "reporter_type",
            "Reporter",
            "reporter_type",
            (
                C("Public", "reporter.public", 55),
                C("Anonymous", "reporter.anonymous", 20),
                C("Industry", "reporter.industry", 15),
                C("Police", "reporter.law_enforcement", 5),
                C("Partner hotline", "reporter.ngo", 5),
            ),
        ),
        LabelField(
            "abuse_types",
            "Abuse type",
            "abuse_type",
            (
                C("CSAM", "abuse.csam", 60, label="Child sexual abuse material"),
                C("AI-CSAM", "abuse.ai_generated_csam", 2, 2.3, label="AI-generated imagery"),
                C("SEXTORTION", "abuse.sexual_extortion", 8, 1.6, label="Sexual extortion"),
                C(
                    "FIN-SEXTORTION",
                    "abuse.financial_sexual_extortion",
                    4,
                    2.0,
                    label="Financially motivated sexual extortion",
                ),
                C("GROOMING", "abuse.online_grooming", 8, label="Online grooming"),
                C("SG-CSAM", "abuse.self_generated", 10, 1.1, label="Self-generated imagery"),
                C("LIVESTREAM", "abuse.live_streaming", 3, label="Live-streamed abuse"),
                C("OTHER", "abuse.other_sexual_exploitation", 5, label="Other"),
            ),
            split=",",
            second_rate=0.1,
            codes=True,
            unknown=("CSEM-OLD", "PCOI"),
        ),
        LabelField(
            "platform_types",
            "Site type",
            "platform_type",
            (
                C("Image host", "platform.image_hosting", 30),
                C("Cyberlocker", "platform.cloud_storage", 15),
                C("Forum", "platform.forum", 10),
                C("Social network", "platform.social_media", 15),
                C("Chat/messaging", "platform.messaging", 8),
                C("Video", "platform.video", 8),
                C("Website", "platform.website", 10),
                C("Dark web", "platform.dark_web", 4),
            ),
        ),
        CountField("No. of children", extra_rate=0.3),
        AgeBandField(
            "Age range",
            (
                Band("0-2", "age.0_2", 0, 2),
                Band("3-6", "age.3_6", 3, 6),
                Band("7-10", "age.7_10", 7, 10),
                Band("11-13", "age.11_13", 11, 13),
                Band("14-15", "age.14_15", 14, 15),
                Band("16-17", "age.16_17", 16, 17),
                Band("18+", "age.adult", 18, 200),
            ),
            C("Unknown", "age.unknown"),
            codes=True,
            unknown_codes=("12-14",),
        ),
        LabelField(
            "victim_sex",
            "Sex",
            "sex",
            (
                C("Girls", "sex.female", 70),
                C("Boys", "sex.male", 18),
                C("Both", None, 5),
                C("Unknown", "sex.unknown", 7),
            ),
            sextortion_boost=(("sex.male", 3.0),),
        ),
        LabelField(
            "content_category",
            "Category",
            "content_category",
            (
                C("A", "content.uk_a", 20, label="Category A"),
                C("B", "content.uk_b", 25, label="Category B"),
                C("C", "content.uk_c", 40, label="Category C"),
                C("NI", "content.not_illegal", 15, label="Not illegal"),
            ),
            codes=True,
            unknown=("D",),
        ),
        FlagField(
            "self_generated",
            "Self-generated",
            "Y",
            "N",
            0.2,
            1.1,
            forced_by=SELF_GENERATED,
            also_true=("y", "Yes"),
            also_false=("n", "No"),
        ),
        FlagField(
            "ai_generated",
            "AI-generated",
            "Y",
            "N",
            0.01,
            2.1,
            forced_by=GENERATED,
            also_true=("y", "Yes"),
            also_false=("n", "No"),
        ),
        LabelField(
            "actions_taken",
            "Action",
            "action_taken",
            (
                C("NTD", "action.takedown_requested", 60, label="Notice and takedown"),
                C("LE", "action.forwarded_law_enforcement", 20, label="Passed to police"),
                C("INHOPE", "action.forwarded_hotline", 30, label="Passed to a partner hotline"),
                C("NFA", "action.no_action", 10, label="No further action"),
            ),
            codes=True,
        ),
        StatusField(
            "Status",
            (
                StatusValue("Open", "open", 5, 50),
                StatusValue("Closed", "closed", 95, 50),
            ),
        ),
        IdentifyingField("Reporter phone", "phone", missing_rate=0.85),
        IdentifyingField("Notes", "narrative", missing_rate=0.2),
    ),
)
