"""Settings → Engine: render on this computer or on a server (address, token in the keyring, test connection)."""

from __future__ import annotations

from typing import Any

from keyring.errors import KeyringError
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from app.remote.client import RemoteClient
from app.remote.target import ServerTarget, load_token, save_token
from app.ui.settings.preferences import Preferences
from app.ui.widgets.background import run_in_background

LOCAL, SERVER = "local", "server"
TEST_TIMEOUT_S = 5.0


class EngineLocationSettings(QGroupBox):
    """Where jobs run; the token is read from and written to the system keyring, never the settings file."""

    def __init__(self, preferences: Preferences, parent: QWidget | None = None) -> None:
        super().__init__("Where images are made", parent)
        self._preferences = preferences
        self.location = QComboBox()
        self.location.setAccessibleName("Engine location")
        self.location.addItem("This computer", LOCAL)
        self.location.addItem("Server (pixart-studio serve)", SERVER)
        self.location.setCurrentIndex(1 if preferences.render_on_server else 0)
        self.url = QLineEdit(preferences.server_url)
        self.url.setPlaceholderText("http://gpu-workstation:7860")
        self.url.setAccessibleName("Server address")
        self.token = QLineEdit(load_token(preferences.server_url) if preferences.server_url else "")
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("the token from the server's --token-file")
        self.token.setAccessibleName("Server token")
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.result = QLabel()
        self.result.setProperty("role", "hint")
        self.result.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.token, 1)
        row.addWidget(self.test_button)
        form = QFormLayout(self)
        form.addRow("Runs on", self.location)
        form.addRow("Server", self.url)
        form.addRow("Token", row)
        form.addRow(self.result)
        self.location.currentIndexChanged.connect(self._update_enabled)
        self._update_enabled()

    @property
    def uses_server(self) -> bool:
        """True when "Server" is chosen."""
        return self.location.currentData() == SERVER

    def test_connection(self) -> None:
        """Ask the server for its version and models in the background; the result shows below."""
        url, token = self.url.text().strip(), self.token.text().strip()
        self.result.setText(f"Connecting to {url}…")
        self.test_button.setEnabled(False)

        def probe() -> tuple[dict[str, Any], list[dict[str, Any]]]:
            client = RemoteClient(url, token, timeout_s=TEST_TIMEOUT_S)
            try:
                return client.health(), client.models()
            finally:
                client.close()

        run_in_background(probe, self._on_tested, self._on_test_failed, context=self)

    def apply(self) -> bool:
        """Save the choice (and the token in the keyring); False with the reason shown when it cannot be kept."""
        url = self.url.text().strip().rstrip("/")
        if self.uses_server and not url.startswith(("http://", "https://")):
            self.result.setText("Enter the server's address, starting with http:// or https://")
            return False
        token = self.token.text().strip()
        if url and token and token != load_token(url):
            try:
                save_token(url, token)
            except KeyringError as error:
                self.result.setText(f"Cannot keep the token in the system keyring: {error}")
                return False
        self._preferences.set_server(self.uses_server, url)
        return True

    def _update_enabled(self) -> None:
        for widget in (self.url, self.token, self.test_button):
            widget.setEnabled(self.uses_server)

    def _on_tested(self, answer: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
        health, models = answer
        self.test_button.setEnabled(self.uses_server)
        names = ", ".join(m["id"] for m in models) or "no models"
        self.result.setText(f"Connected: PixArt Studio {health.get('version', '?')} with {names}.")

    def _on_test_failed(self, error: Exception) -> None:
        self.test_button.setEnabled(self.uses_server)
        self.result.setText(f"Not connected: {error}")


def saved_server(preferences: Preferences) -> ServerTarget | None:
    """The server the preferences choose, with its token from the keyring; None: render on this computer."""
    if not preferences.render_on_server:
        return None
    return ServerTarget(preferences.server_url, load_token(preferences.server_url))
