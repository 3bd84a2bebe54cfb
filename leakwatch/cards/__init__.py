"""The two cards of «Где теряются деньги»: their SQL (once), and reading them."""
