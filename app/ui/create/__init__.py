"""The Create panel: prompt, size, generation controls, queue and progress, and the state they edit."""
