"""Every image of the page says what it shows (alternative text for screen readers)."""

from .conftest import open_tab


def test_gallery_and_compare_images_have_alternative_text(app):
    alts = [img.alt for el in app.get("image") for img in el.proto.imgs]
    assert len(alts) >= 2 + 2 * 6 * 3, "the legend and the gallery of the six photos are drawn"
    assert all(alts), "an image without alternative text"
    assert "coffee, channel 2 (blue), after BatchNorm" in alts
    assert "hubble deep field, after BatchNorm, recomposed as colour" in alts
    compare = open_tab(app, "Compare")
    alts = [img.alt for el in compare.get("image") for img in el.proto.imgs]
    assert "astronaut, after InstanceNorm, recomposed as colour" in alts
