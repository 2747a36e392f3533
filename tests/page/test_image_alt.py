"""Every image of the page says what it shows (alternative text for screen readers)."""

from .conftest import open_tab


def test_gallery_and_compare_images_have_alternative_text(app):
    alts = [img.alt for el in app.get("image") for img in el.proto.imgs]
    assert all(alts), "an image without alternative text"
    # the gallery's rows are strips of tiles: each strip's text names every tile in it, in order
    tiles = [tile for alt in alts for tile in alt.split("; ")]
    assert len(tiles) >= 2 + 2 * 6 + 2 * 6 * 3, "the legend and every tile of the six photos are described"
    coffee = next(alt for alt in alts if alt.startswith("coffee, channel 0"))
    outlined = ", outlined: holds the selected group"  # BatchNorm's group of cell (0, 0, 0, 0): channel 0
    assert coffee.split("; ") == [
        f"coffee, channel {c} ({colour}), {what}{outlined if c == 0 else ''}"
        for c, colour in enumerate(("red", "green", "blue"))
        for what in ("input in grey", "after BatchNorm")
    ]
    assert "hubble deep field, after BatchNorm, recomposed as colour" in tiles
    compare = open_tab(app, "Compare")
    alts = [img.alt for el in compare.get("image") for img in el.proto.imgs]
    assert "astronaut, after InstanceNorm, recomposed as colour" in alts
