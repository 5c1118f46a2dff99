"""What the learner does with a badge: its public page (`page`), baked images (`images`), the
claim e-mail and learner sessions (`delivery`, sent through `mail`)."""

from badges.sharing.page import BadgeView, badge_view, linkedin_url, qr_png, qr_svg, set_public

__all__ = ["BadgeView", "badge_view", "linkedin_url", "qr_png", "qr_svg", "set_public"]
