"""Session-state keys that more than one page reads or writes, named once here."""

LAST_DRAWING = "last_drawing"    # the (28, 28) float image the Sketch pad last sent to the Layer visualizer
LAYERS_MODEL = "layers_model"    # the Layer visualizer's model choice
LAYERS_SOURCE = "layers_source"  # the Layer visualizer's input choice; cleared so it opens on a new drawing
# A test image sent to the Layer visualizer (e.g. from a confusion-matrix cell): a dict with "image" (28, 28)
# float, "caption", "truth" (its class), "drawing" (LAST_DRAWING when sent: a later drawing opens first)
INSPECT_IMAGE = "inspect_image"
NAVIGATION_CHECKED = "_navigation_checked"  # ensure_navigation already rerun this session
OWNER_ID = "_owner_id"  # this session's private id: only the session that started a job may stop it
LOOK_INSIDE = "_look_inside"  # the drawing the Sketch pad asked to open in the Layer visualizer
BROWSER_FAILED = "_browser_failed"  # why the model could not run in this browser (the server classifies)
STUDENT_NAME = "student_name"  # the name a student gave, shown as the owner of their jobs on every page
STUDENT_LABEL = "_student_label"  # "Student N": this session's owner name until its student gives one
LAYERS_MODEL_WANTED = "layers_model_wanted"  # the name of the model a sent image or drawing belongs to
