"""The Electronic Government Agency (EGA) plugin for G-News and GAC.

EGA (สำนักงานรัฐบาลอิเล็กทรอนิกส์, now the Digital Government Development Agency, DGA) runs
G-News and GAC. This plugin declares the agency, its press-release feed (trusted: EGA's own
news is published without review) and its apps in the GAC catalogue. See docs/plugins.md for
every hook.

Configuration (read with :func:`gnews.specs.plugin_config`, the plugins' one accessor):
``GNEWS_PLUGIN_EGA_FEED_URL`` is another address of the press-release feed (a mirror, or a
local copy on a staging server); unset, the feed is EGA's own.
"""

from __future__ import annotations

from gnews.hookspecs import AgencySpec, AppListingSpec, NewsSourceSpec, hookimpl, plugin_config

__version__ = "0.1.0"

PLUGIN_NAME = "ega"  # the entry-point name: the plugin's name in logs and in its settings
AGENCY_CODE = "ega"
FEED_URL = "https://www.dga.or.th/feed/"


@hookimpl
def gnews_agencies() -> list[AgencySpec]:
    """EGA itself."""
    return [
        AgencySpec(
            code=AGENCY_CODE,
            name_th="สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน)",
            name_en="Digital Government Development Agency (EGA)",
            website="https://www.dga.or.th",
            # EGA runs GAC: its own listings need no review by itself.
            trusted=True,
        )
    ]


@hookimpl
def gnews_news_sources() -> list[NewsSourceSpec]:
    """EGA's press releases (national: no default province)."""
    return [
        NewsSourceSpec(
            slug="ega-press",
            agency=AGENCY_CODE,
            name="EGA press releases / ข่าวประชาสัมพันธ์ สพร.",
            feed_url=plugin_config(PLUGIN_NAME).get("feed_url", FEED_URL),
            language="th",
            categories=["digital-government"],
            poll_interval_minutes=30,
            trusted=True,
        )
    ]


@hookimpl
def gnews_app_listings() -> list[AppListingSpec]:
    """EGA's apps in the GAC catalogue.

    Store identifiers are given only where they are known to be the real ones; a platform whose
    identifier is not known is left out rather than guessed (an iOS bundle id is never given:
    none is known, and the App Store link is what citizens follow).
    """
    return [
        AppListingSpec(
            slug="tang-rat",
            agency=AGENCY_CODE,
            name_th="ทางรัฐ",
            name_en="Tang Rat",
            description_th=(
                "แอปพลิเคชันรวมบริการภาครัฐไว้ในที่เดียว ตรวจสอบสิทธิและสวัสดิการ "
                "ติดต่อราชการ และใช้บริการออนไลน์ของหน่วยงานต่าง ๆ"
            ),
            description_en=(
                "Government services in one app: check benefits and entitlements and use the "
                "online services of many agencies."
            ),
            categories=["government-services", "welfare"],
            # The published Google Play package and App Store app id of ทางรัฐ.
            android_package="th.or.dga.citizenportal",
            app_store_url="https://apps.apple.com/th/app/id1514331336",
            web_url="https://xn--72cst3czdd.com/",  # ทางรัฐ.com
            tags=["ทางรัฐ", "บริการประชาชน", "super app"],
        ),
        AppListingSpec(
            slug="g-news",
            agency=AGENCY_CODE,
            name_th="G-News ข่าวสารภาครัฐ",
            name_en="G-News",
            description_th=("ข่าวสารที่ถูกต้องจากหน่วยงานภาครัฐ พร้อมการแจ้งเตือนข่าวตามจังหวัดที่ติดตาม"),
            description_en=(
                "Reliable news from government agencies, with notifications for the provinces "
                "you follow."
            ),
            categories=["news", "government-services"],
            # Its store identifiers are not known to us, so no Android or iOS entry is given:
            # G-News is listed through GovChannel, the EGA portal it was launched under.
            web_url="https://www.govchannel.go.th/",
            tags=["ข่าว", "ข่าวภาครัฐ", "news"],
        ),
        AppListingSpec(
            slug="gac",
            agency=AGENCY_CODE,
            name_th="ศูนย์รวมแอปพลิเคชันภาครัฐ (GAC)",
            name_en="Government Application Center (GAC)",
            description_th=("ค้นหาแอปพลิเคชันของหน่วยงานภาครัฐที่เป็นทางการและเชื่อถือได้ แยกตามหมวดหมู่"),
            description_en="Find the official apps of government agencies, by category.",
            categories=["government-services"],
            web_url="https://apps.go.th/",  # the catalogue's web site (no store apps listed)
            tags=["แอปภาครัฐ", "apps"],
        ),
        AppListingSpec(
            slug="doing-business-portal",
            agency=AGENCY_CODE,
            name_th="ศูนย์กลางข้อมูลให้ธุรกิจติดต่อราชการแบบเบ็ดเสร็จ (Doing Business Portal)",
            name_en="Doing Business Portal",
            description_th=("ยื่นคำขอใบอนุญาตและติดตามสถานะคำขอของธุรกิจกับหน่วยงานภาครัฐได้ในที่เดียว"),
            description_en=(
                "Apply for business licences and follow their status with government agencies "
                "in one place."
            ),
            categories=["business"],
            web_url="https://biz.govchannel.go.th/",  # web only
            tags=["ใบอนุญาต", "ธุรกิจ", "licence"],
        ),
    ]
