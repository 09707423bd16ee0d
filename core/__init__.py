"""What the API and the worker share: settings, the Temporal connection, the pool and
migrations, the data access (`core.store`), logs, and the mails' building and rendering."""
