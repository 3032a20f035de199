"""The web pages: server-rendered HTML for people with a browser (owners on their phones first), on the same use
cases as the API. Phone first, Chinese first with English, and working with JavaScript off."""
