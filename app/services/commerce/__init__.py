"""The B2B commerce platform: customer XML import, outbound status and limit updates."""
