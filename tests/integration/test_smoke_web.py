from tests.conftest import login


def test_login_page_and_home(client, users):
    assert "Entrar" in client.get("/login").get_data(as_text=True)
    login(client, "admin")
    html = client.get("/").get_data(as_text=True)
    assert "Olá, Admin" in html
    assert "Integrações" in html
