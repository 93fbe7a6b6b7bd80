"""The main window's frame: menus and commands, side panel, banners, status bar."""
