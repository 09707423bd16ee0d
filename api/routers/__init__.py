"""The API's routers, one per resource; `api.main.create_app` includes each."""
