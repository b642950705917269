"""The Dataset explorer's sections (tabs, one open at a time) and the widgets whose values they keep."""

GALLERY, EXAMPLES, STATISTICS, MAPS = (
    "Gallery", "The ten classes, eight examples each", "Class balance and pixels", "Map of the images in 2-D")
VIEW_KEY = "dataset_view"
PAGE_KEY = "gallery_page"  # the gallery's page number
MAP_MODEL = "projection_model"  # the model of the learned-features map
VIEW_WIDGETS = ("gallery_classes", PAGE_KEY, "skip_background", "log_counts", "projection_method",
                "tsne_size", MAP_MODEL)
