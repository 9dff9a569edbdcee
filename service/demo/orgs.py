"""The demo county's org tree (示范县: towns, schools, providers) and who acts for each unit."""

from __future__ import annotations

from domain.actor import Actor
from domain.vocabulary import Role

COUNTY_ID = "C01"
COUNTY_NAME = "示范县"
TOWNS: tuple[tuple[str, str, bool], ...] = (  # id, name, rural
    ("T01", "城关镇", False),
    ("T02", "青山镇", True),
    ("T03", "白沙镇", True),
)
SCHOOLS: tuple[tuple[str, str, str, str, int], ...] = (  # id, name, town, kind, size weight
    ("S01", "示范县实验小学", "T01", "primary", 9),
    ("S02", "城关第一小学", "T01", "primary", 8),
    ("S03", "城关第二小学", "T01", "primary", 7),
    ("S04", "城关第三小学", "T01", "primary", 5),
    ("S05", "示范县城关初级中学", "T01", "middle", 8),
    ("S06", "示范县实验初级中学", "T01", "middle", 7),
    ("S07", "城关镇中心校", "T01", "central", 4),
    ("S08", "青山镇中心校", "T02", "central", 5),
    ("S09", "青山镇初级中学", "T02", "middle", 6),
    ("S10", "青山小学", "T02", "primary", 4),
    ("S11", "青山镇塘口小学", "T02", "primary", 2),
    ("S12", "青山镇石门小学", "T02", "primary", 2),
    ("S13", "青山镇竹林小学", "T02", "primary", 2),
    ("S14", "白沙镇中心校", "T03", "central", 5),
    ("S15", "白沙镇初级中学", "T03", "middle", 6),
    ("S16", "白沙小学", "T03", "primary", 4),
    ("S17", "白沙镇柳溪小学", "T03", "primary", 2),
    ("S18", "白沙镇河口小学", "T03", "primary", 2),
    ("S19", "白沙镇上庄小学", "T03", "primary", 2),
    ("S20", "白沙镇新华小学", "T03", "primary", 3),
)
PROVIDERS: tuple[tuple[str, str, str | None], ...] = (  # id, name, parent
    ("P01", "示范县教师进修学校", COUNTY_ID),
    ("P02", "江南师范大学", None),
    ("P03", "省中小学教师培训中心", None),
    ("P04", "市教师发展中心", None),
)
ELECTIVE_REJECTED = "S12"  # its 2025 elective 校本 programme is rejected and never resubmitted
ELECTIVE_REVISED = "S17"  # its 2025 elective is rejected, then a revised one is approved
TRANSFER_FROM, TRANSFER_TO = "S08", "S01"
LATE_SCHOOL = "S05"  # enters its autumn-2024 校本 programme, run before trainrec, in January 2025
PRIOR_SOURCE = "原继续教育管理平台"  # where the 2021–2024 hours (历史学时) come from
SPLIT_ELECTIVES_FROM = 30  # schools with this many staff offer two elective topics

ADMIN = Actor("demo-admin", Role.ADMIN)
COUNTY_SUPERVISOR = Actor("county-supervisor", Role.SUPERVISOR, org_id=COUNTY_ID)


def school_admin(school_id: str) -> Actor:
    return Actor(f"school-admin-{school_id}", Role.SCHOOL_ADMIN, org_id=school_id)


def provider_actor(org_id: str) -> Actor:
    """Whoever runs a programme: a training institution, or a school for its own 校本."""
    if org_id.startswith("S"):
        return school_admin(org_id)
    return Actor(f"provider-{org_id}", Role.PROVIDER, org_id=org_id)


def teacher_actor(teacher_no: str) -> Actor:
    return Actor(f"t-{teacher_no}", Role.TEACHER, teacher_no=teacher_no)


