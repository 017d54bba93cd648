"""The main window's menus, tool bar and keyboard shortcuts, in one table-like place."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QStyle, QToolBar

from gui.main.model_options import ModelOptions


def build_menus(window: QMainWindow) -> dict[str, QAction]:
    """Create the menus and tool bar of window (a gui.main.main_window.MainWindow).

    Returns the actions by name, for the window and for tests that trigger real actions.
    """
    actions: dict[str, QAction] = {}
    style = window.style()

    def add(menu: QMenu, name: str, text: str, slot, shortcut=None, icon=None, tip=None):
        action = QAction(text, window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            action.setIcon(style.standardIcon(icon))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        actions[name] = action
        return action

    menubar = window.menuBar()
    file_menu = menubar.addMenu("&File")
    add(
        file_menu,
        "open_images",
        "&Open images…",
        window.open_images,
        QKeySequence.StandardKey.Open,
        QStyle.StandardPixmap.SP_DialogOpenButton,
        "Add image files to the list",
    )
    add(
        file_menu,
        "open_folder",
        "Open &folder…",
        window.open_folder,
        "Ctrl+Shift+F",
        QStyle.StandardPixmap.SP_DirOpenIcon,
        "Add every image in a folder and its subfolders",
    )
    recent = file_menu.addMenu("Recent &folders")
    recent.aboutToShow.connect(lambda: _fill_recent_folders(window, recent))
    file_menu.addSeparator()
    add(
        file_menu,
        "export_features",
        "&Export features…",
        window.export_features,
        "Ctrl+E",
        tip="Write feature vectors of the images at a layer to .npz, .csv, .npy or .h5",
    )
    add(
        file_menu,
        "export_png",
        "Export activation &grid as PNG…",
        window.export_activation_png,
        "Ctrl+Shift+E",
    )
    add(
        file_menu,
        "export_explanation",
        "Export e&xplanation as PNG…",
        lambda _checked=False: window.explaining.export_png(),
        "Ctrl+Shift+X",
        tip="Save the Explain heatmap over the photo",
    )
    add(
        file_menu,
        "export_onnx",
        "Export model as &ONNX…",
        lambda _checked=False: window.runtime.export_onnx(),
        "Ctrl+Alt+O",
        tip="The model for ONNX Runtime, with its class names and preprocessing inside",
    )
    file_menu.addSeparator()
    # Not StandardKey.Quit: it is empty on some platforms (Qt's generic theme), Ctrl+Q not.
    add(file_menu, "quit", "&Quit", window.close, "Ctrl+Q")

    edit_menu = menubar.addMenu("&Edit")
    add(
        edit_menu,
        "paste",
        "&Paste image",
        window.paste,
        QKeySequence.StandardKey.Paste,
        tip="Add the image (or image files) on the clipboard",
    )
    add(edit_menu, "copy_predictions", "&Copy predictions", window.copy_predictions, "Ctrl+Shift+C")
    edit_menu.addSeparator()
    add(
        edit_menu,
        "remove_images",
        "&Remove selected images",
        window.remove_selected_images,
        QKeySequence.StandardKey.Delete,
    )
    add(edit_menu, "clear_images", "C&lear all images", window.session.clear)

    model_menu = menubar.addMenu("&Model")
    add(
        model_menu,
        "open_model",
        "&Open model file…",
        window.open_model_file,
        "Ctrl+Shift+O",
        tip="Load a .keras or .h5 model of your own",
    )
    window.runtime.add_menu(model_menu)
    add(
        model_menu,
        "classify",
        "&Classify remaining images",
        window.session.classify_remaining,
        "F5",
        QStyle.StandardPixmap.SP_BrowserReload,
    )
    add(
        model_menu,
        "cancel",
        "C&ancel running work",
        window.task_status.cancel_current,
        "Esc",
        QStyle.StandardPixmap.SP_BrowserStop,
    )
    window.model_options = ModelOptions(window, model_menu)  # Ctrl+Alt+R, Ctrl+Alt+I
    actions["squash"] = window.model_options.squash
    actions["input_size"] = window.model_options.input_size

    view_menu = menubar.addMenu("&View")
    network = add(
        view_menu, "network_view", "What the &network sees", window.toggle_network_view, "N"
    )
    network.setCheckable(True)
    window.image_pane.network_toggle.toggled.connect(network.setChecked)
    add(view_menu, "focus_layers", "Filter &layers", window.layer_tree.focus_filter, "Ctrl+L")
    view_menu.addSeparator()
    explaining = window.explaining
    explain = add(
        view_menu,
        "explain",
        "E&xplain the prediction",
        lambda _checked=False: explaining.toggle(),
        "X",
        tip="A heatmap of what made the model say the class; click a top-5 label for another",
    )
    explain.setCheckable(True)
    explaining.controller.enabled_changed.connect(explain.setChecked)
    add(
        view_menu,
        "compare",
        "&Compare with another model…",
        lambda _checked=False: explaining.show_compare(),
        "Ctrl+Alt+C",
        tip="A second model's top-5 and heatmap beside this one, for the same image",
    )

    feature_map = add(
        view_menu,
        "feature_map",
        "Feature &map",
        lambda _checked=False: window.exploring.toggle(),
        "Ctrl+M",
        tip="The images laid out by their features: clusters, outliers, similar images",
    )
    feature_map.setCheckable(True)
    window.exploring.dock.visibilityChanged.connect(feature_map.setChecked)

    tools_menu = menubar.addMenu("&Tools")
    add(
        tools_menu,
        "train",
        "&Train a classifier…",
        window.show_training,
        "Ctrl+T",
        tip="Transfer learning: a new classifier for your own labelled folders",
    )
    add(
        tools_menu,
        "find_duplicates",
        "Find near-&duplicates",
        lambda _checked=False: window.exploring.find_duplicates(),
        "Ctrl+Shift+D",
        tip="Groups of near-identical images and the least typical ones, in the Feature map",
    )

    help_menu = menubar.addMenu("&Help")
    add(
        help_menu,
        "shortcuts",
        "&Keyboard shortcuts",
        window.show_shortcuts,
        QKeySequence.StandardKey.HelpContents,
    )
    add(help_menu, "about", "&About ConvLens", window.show_about)

    toolbar = QToolBar("Main", window)
    toolbar.setObjectName("main_toolbar")  # saveState() needs a name
    toolbar.setMovable(False)
    toolbar.addAction(actions["open_images"])
    toolbar.addAction(actions["open_folder"])
    toolbar.addSeparator()
    toolbar.addWidget(window.model_selector)
    window.addToolBar(toolbar)
    return actions


def _fill_recent_folders(window, menu: QMenu) -> None:
    menu.clear()
    folders = window.settings.recent_image_dirs
    for folder in folders:
        menu.addAction(folder, lambda f=folder: window.add_images([f]))
    if not folders:
        menu.addAction("No recent folders").setEnabled(False)
