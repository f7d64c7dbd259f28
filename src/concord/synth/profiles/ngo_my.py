"""儿童保护协会（示例）/ Child Protection Association Example MY: a Chinese-language NGO.

Quirks: UTF-8 CSV with Chinese column names and labels (Simplified Chinese, as used in
Malaysia), yyyy/mm/dd dates, several values in one cell separated by the Chinese enumeration
comma "、", its own age groups (0-6, 7-13, 14-17 — they match the shared coarse bands), and
"其他" ("other") left unmapped.
"""

from __future__ import annotations

from concord.synth.model import (
    SELF_GENERATED,
    SEXTORTION,
    AgeBandField,
    AreaField,
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
    slug="ngo-my",
    name="Child Protection Association Example MY",
    kind="NGO",
    country="MY",
    language="zh",
    description="儿童保护协会（示例）个案记录导出 / case records export",
    reader=Reader(Format.CSV, ".csv", encoding="utf-8", delimiter=","),
    growth=1.2,
    weekdays=(1.05, 1.05, 1.05, 1.05, 1.0, 0.9, 0.9),
    fields=(
        KeyField("个案编号", "year_seq", prefix="CPA-", width=5),
        DateField("received_date", "接案日期", "%Y/%m/%d"),
        DateField("occurred_date", "事发日期", "%Y/%m/%d", missing_rate=0.5),
        LabelField(
            "country",
            "国家",
            "country",
            (
                C("马来西亚", "country.my", 85),
                C("新加坡", "country.sg", 5),
                C("印度尼西亚", "country.id", 4),
                C("泰国", "country.th", 2),
                C("中国", "country.cn", 2),
                C("不详", "country.zz", 2),
            ),
            unknown=("大马",),
        ),
        AreaField("州属", ("雪兰莪", "吉隆坡", "槟城", "柔佛", "霹雳", "沙巴", "砂拉越")),
        LabelField(
            "channel",
            "求助渠道",
            "channel",
            (
                C("电话", "channel.phone", 40),
                C("网上聊天", "channel.chat", 30, 1.2),
                C("电子邮件", "channel.email", 8),
                C("面谈", "channel.in_person", 10),
                C("转介", "channel.referral", 12),
            ),
        ),
        LabelField(
            "reporter_type",
            "求助者",
            "reporter_type",
            (
                C("儿童本人", "reporter.child_self", 35),
                C("父母", "reporter.parent", 30),
                C("其他亲属", "reporter.other_family", 8),
                C("老师", "reporter.school", 10),
                C("社工", "reporter.professional", 10),
                C("匿名", "reporter.anonymous", 7),
            ),
        ),
        LabelField(
            "abuse_types",
            "个案类别",
            "abuse_type",
            (
                C("网络诱骗", "abuse.online_grooming", 25),
                C("性勒索", "abuse.sexual_extortion", 10, 1.6),
                C("儿童性虐待材料", "abuse.csam", 12),
                C("私密图像外泄", "abuse.non_consensual_image_sharing", 12),
                C("网络性骚扰", "abuse.online_sexual_harassment", 15),
                C("接触色情内容", "abuse.exposure_to_sexual_content", 8),
                C("线下性侵", "abuse.sexual_abuse", 10),
                C("其他", None, 5),
            ),
            split="、",
            second_rate=0.2,
            unknown=("网络欺凌",),
        ),
        LabelField(
            "platform_types",
            "平台类型",
            "platform_type",
            (
                C("社交媒体", "platform.social_media", 35),
                C("即时通讯", "platform.messaging", 35),
                C("网络游戏", "platform.gaming", 12, 1.15),
                C("视频平台", "platform.video", 10),
                C("不详", "platform.unknown", 8),
            ),
            split="、",
            second_rate=0.1,
        ),
        CountField("受害人数", extra_rate=0.05),
        AgeBandField(
            "年龄组",
            (
                Band("0-6岁", "age.0_6", 0, 6),
                Band("7-13岁", "age.7_13", 7, 13),
                Band("14-17岁", "age.14_17", 14, 17),
                Band("18岁或以上", "age.adult", 18, 200),
            ),
            C("不详", "age.unknown"),
            unknown_codes=("青少年",),
        ),
        LabelField(
            "victim_sex",
            "性别",
            "sex",
            (
                C("女", "sex.female", 62),
                C("男", "sex.male", 35),
                C("不详", "sex.unknown", 3),
            ),
            sextortion_boost=(("sex.male", 3.0),),
        ),
        LabelField(
            "offender_relationship",
            "与施害者关系",
            "offender_relationship",
            (
                C("网友", "relation.online_only", 35),
                C("家人", "relation.family", 12),
                C("朋友/同学", "relation.friend_peer", 15),
                C("老师/教练", "relation.position_of_trust", 5),
                C("陌生人", "relation.stranger", 10),
                C("不详", "relation.unknown", 23),
            ),
            sextortion_boost=(("relation.online_only", 3.0),),
        ),
        FlagField(
            "self_generated",
            "自拍内容",
            "是",
            "否",
            0.12,
            1.1,
            forced_by=SEXTORTION | SELF_GENERATED,
            missing_rate=0.05,
        ),
        LabelField(
            "actions_taken",
            "处理方式",
            "action_taken",
            (
                C("辅导", "action.counselling", 45),
                C("提供信息", "action.information_given", 25),
                C("转介社会福利部门", "action.referred_child_protection", 12),
                C("报警", "action.forwarded_law_enforcement", 8),
                C("协助删除内容", "action.takedown_requested", 10),
            ),
            split="、",
            second_rate=0.3,
        ),
        FlagField("referral_made", "已转介", "是", "否", 0.25),
        StatusField(
            "状态",
            (
                StatusValue("处理中", "open", 12, 60),
                StatusValue("已结案", "closed", 88, 40),
            ),
        ),
        IdentifyingField("儿童名字", "first_name", missing_rate=0.25),
        IdentifyingField("联系电话", "phone", missing_rate=0.4),
        IdentifyingField("个案摘要", "narrative", missing_rate=0.05),
    ),
)
