"""Example Video Platform TH: a platform's trust-and-safety export, as one JSON array.

Quirks: an API dump (a single JSON array of objects), English upper-case policy codes rather
than labels, ISO 8601 UTC timestamps ("2024-03-05T10:22:13Z"), the placeholder country "XX" for
an unknown IP location, the platform's own estimated-age buckets ("UNDER_13", "13_17") that only
roll up to "under 18", and the policy category "MINOR_SEXUALIZATION", which no abuse concept
matches exactly (left unmapped). A platform knows neither the child's sex nor the offender.
"""

from __future__ import annotations

from concord.synth.model import (
    GENERATED,
    SELF_GENERATED,
    AgeBandField,
    Band,
    Choice,
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
    slug="platform-th",
    name="Example Video Platform TH",
    kind="platform",
    country="TH",
    language="en",
    description="Example Video Platform TH: trust and safety child-safety report dump (JSON)",
    reader=Reader(Format.JSON, ".json", encoding="utf-8"),
    growth=1.3,
    seasonality=(1.0, 0.95, 1.05, 1.15, 1.1, 0.95, 0.95, 1.0, 0.95, 1.0, 1.0, 1.1),
    fields=(
        KeyField("report_id", "seq", prefix="TH-RPT-", width=9),
        DateField("received_date", "received_at", "%Y-%m-%dT%H:%M:%SZ"),
        DateField("occurred_date", "content_created_at", "%Y-%m-%dT%H:%M:%SZ", missing_rate=0.3),
        LabelField(
            "country",
            "user_country",
            "country",
            (
                C("TH", "country.th", 60, label="Thailand"),
                C("MY", "country.my", 8, label="Malaysia"),
                C("ID", "country.id", 10, label="Indonesia"),
                C("PH", "country.ph", 8, label="Philippines"),
                C("VN", "country.vn", 6, label="Viet Nam"),
                C("MM", "country.mm", 3, label="Myanmar"),
                C("XX", "country.zz", 5, label="Unknown location"),
            ),
            codes=True,
            unknown=("T1", "A2"),
        ),
        LabelField(
            "channel",
            "detection_source",
            "channel",
            (
                C("USER_REPORT", "channel.mobile_app", 40, label="In-app user report"),
                C("CLASSIFIER", "channel.proactive_search", 30, 1.2, label="Classifier"),
                C("HASH_MATCH", "channel.proactive_search", 20, label="Hash match"),
                C("TRUSTED_FLAGGER", "channel.referral", 7, label="Trusted flagger"),
                C(
                    "LE_REQUEST",
                    "channel.law_enforcement_referral",
                    3,
                    label="Law enforcement request",
                ),
            ),
            codes=True,
        ),
        LabelField(
            "reporter_type",
            "reporter_type",
            "reporter_type",
            (
                C("USER", "reporter.public", 35, label="User"),
                C(
                    "MINOR_USER",
                    "reporter.child_self",
                    5,
                    1.2,
                    label="User under 18 reporting themselves",
                ),
                C("TRUSTED_FLAGGER", "reporter.ngo", 7, label="Trusted flagger"),
                C("AUTOMATED", "reporter.industry", 50, label="Automated detection"),
                C("LAW_ENFORCEMENT", "reporter.law_enforcement", 3, label="Law enforcement"),
            ),
            codes=True,
        ),
        LabelField(
            "abuse_types",
            "violation_types",
            "abuse_type",
            (
                C("CSAM", "abuse.csam", 40, label="Child sexual abuse material"),
                C("CSAM_AI", "abuse.ai_generated_csam", 2, 2.5, label="AI-generated CSAM"),
                C("SEXTORTION", "abuse.sexual_extortion", 6, 1.8, label="Sextortion"),
                C(
                    "FIN_SEXTORTION",
                    "abuse.financial_sexual_extortion",
                    4,
                    2.0,
                    label="Financial sextortion",
                ),
                C("GROOMING", "abuse.online_grooming", 15, label="Grooming"),
                C("LIVESTREAM_ABUSE", "abuse.live_streaming", 5, label="Live-streamed abuse"),
                C(
                    "NCII",
                    "abuse.non_consensual_image_sharing",
                    8,
                    label="Non-consensual intimate imagery",
                ),
                C("MINOR_SEXUALIZATION", None, 20, label="Sexualisation of minors"),
            ),
            split=",",
            second_rate=0.12,
            codes=True,
            unknown=("CEI", "CHILD_SAFETY_OTHER"),
        ),
        LabelField(
            "platform_types",
            "surface",
            "platform_type",
            (
                C("LIVE", "platform.video", 25, 1.1, label="Live stream"),
                C("SHORT_VIDEO", "platform.video", 35, label="Short video"),
                C("DM", "platform.messaging", 25, label="Direct messages"),
                C("COMMENTS", "platform.social_media", 10, label="Comments"),
                C("PROFILE", "platform.social_media", 5, label="Profile"),
            ),
            codes=True,
            sextortion_boost=(("platform.messaging", 3.0),),
        ),
        AgeBandField(
            "estimated_age",
            (
                Band("UNDER_13", "age.under_18", 0, 12, label="Under 13"),
                Band("13_17", "age.under_18", 13, 17, label="13 to 17"),
                Band("ADULT", "age.adult", 18, 200, label="Adult"),
            ),
            C("UNKNOWN", "age.unknown", label="Unknown"),
            codes=True,
            unknown_codes=("TEEN",),
        ),
        FlagField(
            "self_generated", "self_generated", "Y", "N", 0.15, 1.1, forced_by=SELF_GENERATED
        ),
        FlagField("ai_generated", "ai_generated", "Y", "N", 0.02, 2.0, forced_by=GENERATED),
        LabelField(
            "actions_taken",
            "enforcement_actions",
            "action_taken",
            (
                C("CONTENT_REMOVED", "action.content_removed", 70, label="Content removed"),
                C("ACCOUNT_SUSPENDED", "action.other", 30, label="Account suspended"),
                C(
                    "REPORTED_CLEARINGHOUSE",
                    "action.forwarded_hotline",
                    40,
                    label="Reported to the clearing house",
                ),
                C("REPORTED_LE", "action.forwarded_law_enforcement", 8, label="Reported to police"),
                C("NO_VIOLATION", "action.no_action_not_illegal", 10, label="No violation found"),
            ),
            split=",",
            second_rate=0.5,
            codes=True,
        ),
        StatusField(
            "status",
            (
                StatusValue("OPEN", "open", 3, 30),
                StatusValue("RESOLVED", "closed", 92, 60),
                StatusValue("ESCALATED", "pending", 5, 10),
            ),
        ),
        IdentifyingField("subject_display_name", "first_name", missing_rate=0.4),
        IdentifyingField("subject_handle", "handle", missing_rate=0.1),
        IdentifyingField("notes", "narrative", missing_rate=0.5),
    ),
)
