"""One colour per method across the clustering report's line figures."""

from casestudies.clustering.report import METHOD_COLOURS, method_styles


def test_a_method_keeps_its_colour_in_every_figure():
    k_spaces = ["data (33 features)", "PCA (4 components)", "PCA 2-D", "t-SNE p=30 map",
                "UMAP map"]
    neighbourhoods = ["PCA 2-D", "t-SNE p=5", "t-SNE p=30", "t-SNE p=100", "UMAP",
                      "sklearn t-SNE p=30", "t-SNE p=30 on 4 PCs"]
    k_styles = method_styles(k_spaces, "t-SNE p=30 map")
    n_styles = method_styles(neighbourhoods, "t-SNE p=30")
    # The main map of each method is drawn in the method's own colour in both figures.
    assert k_styles["t-SNE p=30 map"]["color"] == n_styles["t-SNE p=30"]["color"] \
        == METHOD_COLOURS["t-SNE"]
    assert k_styles["PCA 2-D"]["color"] == METHOD_COLOURS["PCA"] == \
        n_styles["PCA 2-D"]["color"]
    assert k_styles["UMAP map"]["color"] == n_styles["UMAP"]["color"] == METHOD_COLOURS["UMAP"]
    assert k_styles["data (33 features)"]["color"] == METHOD_COLOURS["data"]


def test_variants_of_a_method_are_lighter_and_distinguishable():
    names = ["t-SNE p=5", "t-SNE p=30", "t-SNE p=100", "PCA 2-D"]
    styles = method_styles(names, "t-SNE p=30")
    variants = [styles[n] for n in ("t-SNE p=5", "t-SNE p=100")]
    red = tuple(int(METHOD_COLOURS["t-SNE"][i:i + 2], 16) / 255 for i in (1, 3, 5))
    for style in variants:
        assert all(c >= r for c, r in zip(style["color"], red, strict=True))  # mixed with white
    keys = {(s["marker"], s["linestyle"]) for s in styles.values() if s is not styles["PCA 2-D"]}
    assert len(keys) == 3
