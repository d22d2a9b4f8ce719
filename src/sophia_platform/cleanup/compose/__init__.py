"""docker-compose → ``sophia.yaml`` services: a careful loader, a converter and a spec merger."""
